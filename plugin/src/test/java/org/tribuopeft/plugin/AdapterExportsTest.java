package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Writing an adapter reads the base's weights again only when the method's PEFT form needs them. */
class AdapterExportsTest {

    @Test
    void thePretrainedWeightsAreReadOnlyWhenAFormAsksForOne(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("model");
        Backbone.writeHfFolder(folder, TinyBert.weights(5), TinyBert.tokenizerJson());
        Backbone base = Backbone.fromHfFolder(folder, Pooling.MEAN);
        String name = "encoder.layer.0.attention.self.query.weight";
        HostTensor expected = base.weights().get(name);
        base.releaseWeights();

        Map<String, HostTensor> pretrained = AdapterExports.pretrainedOnDemand(base);
        assertFalse(base.holdsWeights(), "a LoRA, DoRA or AdaLoRA adapter is written without them");
        assertTrue(pretrained.get(name).bitEquals(expected));
        assertTrue(base.holdsWeights());
        assertEquals(TinyBert.weights(5).tensors().keySet(), pretrained.keySet());
    }
}
