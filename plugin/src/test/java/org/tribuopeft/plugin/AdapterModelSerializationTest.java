package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import org.junit.jupiter.api.Test;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.testing.TinyBert;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Protobuf round trips give identical predictions for every output type and method (Tribuo's own check). */
class AdapterModelSerializationTest {
    static final String TINY = TinyBert.folder(21).toString();

    static <T extends org.tribuo.Output<T>> AdapterTrainer<T> trainer(AdapterMethod method) {
        return new AdapterTrainer<T>(TINY, method, 24, 8, 2, 5e-3, 7).withProgressSeconds(0);
    }

    @Test
    void labelModelRoundTripsWithIdenticalPredictions() {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.1, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        List<Example<Label>> test = TinyDatasets.examples(16, 2, TinyDatasets::label);
        Model<Label> copy = Helpers.testModelProtoSerialization(model, Label.class, test);
        assertTrue(copy instanceof AdapterModel);
        assertTrue(model.generatesProbabilities());
    }

    @Test
    void regressorModelRoundTripsWithIdenticalPredictions() {
        AdapterModel<Regressor> model = AdapterModelSerializationTest.<Regressor>trainer(
                new DoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.regression(32, 1));
        List<Example<Regressor>> test = TinyDatasets.examples(16, 2, TinyDatasets::regressor);
        Helpers.testModelProtoSerialization(model, Regressor.class, test);
        assertEquals(2, model.predict(test.get(0)).getOutput().size());
    }

    @Test
    void multiLabelModelRoundTripsWithIdenticalPredictions() {
        AdapterModel<MultiLabel> model = AdapterModelSerializationTest.<MultiLabel>trainer(
                new AdaLoraConfig(4, 2, 8, List.of("query", "value"))).train(TinyDatasets.multiLabels(32, 1));
        List<Example<MultiLabel>> test = TinyDatasets.examples(16, 2, TinyDatasets::multiLabel);
        Helpers.testModelProtoSerialization(model, MultiLabel.class, test);
        assertEquals(4, model.rankMasks().size());
    }

    @Test
    void loraWithRankAndAlphaPatternsRoundTripsAndItsProvenanceRebuildsTheSameMethod() {
        LoraConfig patterned = new LoraConfig(4, 8, 0.0, List.of("query", "value"))
                .withPatterns(Map.of("layer.1.attention.self.query", 2), Map.of("value", 3.0));
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(patterned)
                .train(TinyDatasets.labels(32, 1));
        assertArrayEquals(new long[] {2, 16},
                model.trainedTensors().get("encoder.layer.1.attention.self.query.lora_A.weight").shape());
        AdapterModel<Label> copy = (AdapterModel<Label>) Helpers.testModelProtoSerialization(model, Label.class,
                TinyDatasets.examples(8, 2, TinyDatasets::label));
        assertEquals(patterned.rankPattern(), ((LoraConfig) copy.method()).rankPattern());
        assertEquals(patterned.alphaPattern(), ((LoraConfig) copy.method()).alphaPattern());

        // the trainer configuration recovered from provenance alone (what a replay starts from)
        List<ConfigurationData> configs = ProvenanceUtil.extractConfiguration(model.getProvenance().getTrainerProvenance());
        ConfigurationManager cm = new ConfigurationManager();
        cm.addConfiguration(configs);
        AdapterTrainer<?> rebuilt = (AdapterTrainer<?>) cm.lookup(configs.get(0).getName());
        LoraConfig method = (LoraConfig) rebuilt.method();
        assertEquals(2, method.rank("encoder.layer.1.attention.self.query"));
        assertEquals(3.0, method.alpha("encoder.layer.0.attention.self.value"));
    }

    @Test
    void fullFineTuneStoresEveryWeightAndRoundTrips() {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(new FullFineTuning())
                .train(TinyDatasets.labels(32, 1));
        long values = model.trainedTensors().values().stream().mapToLong(t -> t.data().length).sum();
        assertEquals(TinyBert.weights(21).parameterCount() + 2 * 16 + 2, values);
        Helpers.testModelProtoSerialization(model, Label.class, TinyDatasets.examples(8, 2, TinyDatasets::label));
    }
}
