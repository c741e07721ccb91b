package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.prefix.PrefixTuningConfig;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.provenance.replay.ModelReplayer;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt-tuned and prefix-tuned models go through the plugin like every method: model.tribuo round trips with
 * identical predictions and the trained tensors, and a model trained from a config file replays bit for bit from
 * its provenance.
 */
class PromptLearningModelTest {

    @Test
    void promptAndPrefixModelsRoundTripWithIdenticalPredictions() {
        for (AdapterMethod method : List.of(new PromptTuningConfig(4, "abc"), new PrefixTuningConfig(3, true, 8))) {
            AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(method)
                    .train(TinyDatasets.labels(32, 1));
            List<Example<Label>> test = TinyDatasets.examples(16, 2, TinyDatasets::label);
            Model<Label> copy = Helpers.testModelProtoSerialization(model, Label.class, test);
            AdapterModel<Label> loaded = (AdapterModel<Label>) copy;
            assertEquals(model.trainedTensors().keySet(), loaded.trainedTensors().keySet(), method.toString());
            model.trainedTensors().forEach((k, t) -> assertTrue(t.bitEquals(loaded.trainedTensors().get(k)),
                    method + ": " + k));
            assertEquals(method.toString(), loaded.method().toString());
            model.close();
            loaded.close();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void promptAndPrefixModelsReplayBitIdenticallyFromTheirProvenance(@TempDir Path tmp) throws Exception {
        Path csv = ReplayTest.imdbCsv(tmp);
        for (String method : List.of("prompt", "prefix")) {
            AdapterModel<Label> original = ReplayTest.train(csv, TinyBert.folder(21).toString(), method);
            ModelReplayer.Result<Label> r = Replays.replay(original);
            String report = r.report().render();
            assertTrue(r.report().bitIdentical(), method + ":\n" + report);
            assertEquals(0.0, r.report().maxAbsDiff());
            assertEquals(original.trainedTensors().keySet(),
                    ((AdapterModel<Label>) r.replayed()).trainedTensors().keySet());
            original.close();
            ((AdapterModel<Label>) r.replayed()).close();
        }
    }
}
