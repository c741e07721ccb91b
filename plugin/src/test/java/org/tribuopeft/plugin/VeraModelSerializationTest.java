package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.vera.VeraConfig;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A VeRA model saved as model.tribuo keeps its random projections: the loaded copy rebuilds with another
 * generator yet predicts identically, because the projections travel as method state.
 */
class VeraModelSerializationTest {

    @Test
    void veraModelRoundTripsWithItsProjectionsAndIdenticalPredictions() {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new VeraConfig(8, 0.1, 0.0, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        HostTensor a = model.trainedTensors().get(VeraConfig.VERA_A);
        assertArrayEquals(new long[] {8, 16}, a.shape());
        // what a rebuild with AdapterModel's fixed generator would draw, were the projections not restored
        VeraConfig same = new VeraConfig(8, 0.1, 0.0, List.of("query", "value"));
        try (var fresh = org.tribuopeft.adapters.train.TextModel.create(model.backboneReference().load(), same,
                org.tribuopeft.adapters.train.TaskKind.SINGLE_LABEL, 2, 24, new java.util.SplittableRandom(0))) {
            assertFalse(a.bitEquals(HostTensor.of(fresh.adapted().methodState().get(VeraConfig.VERA_A).getArray())),
                    "the trained projections must differ from a fresh draw, or this test proves nothing");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<Example<Label>> test = TinyDatasets.examples(16, 2, TinyDatasets::label);
        Model<Label> copy = Helpers.testModelProtoSerialization(model, Label.class, test);
        AdapterModel<Label> loaded = (AdapterModel<Label>) copy;
        assertTrue(a.bitEquals(loaded.trainedTensors().get(VeraConfig.VERA_A)));
        assertTrue(a.bitEquals(HostTensor.of(loaded.textModel().adapted().methodState().get(VeraConfig.VERA_A)
                .getArray())));
        model.close();
        loaded.close();
    }
}
