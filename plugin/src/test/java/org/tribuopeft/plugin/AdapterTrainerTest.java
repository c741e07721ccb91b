package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.junit.jupiter.api.Test;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.provenance.BaseModelProvenance;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdapterTrainer behaves as Tribuo's own trainers do: configuration, provenance, invocation counts, errors. */
class AdapterTrainerTest {

    static AdapterTrainer<Label> trainer() {
        return AdapterModelSerializationTest.trainer(new LoraConfig(4, 8, 0.1, List.of("query", "value")));
    }

    @Test
    void configurationRoundTripsThroughProvenance() {
        Helpers.testConfigurableRoundtrip(trainer());
    }

    @Test
    void modelProvenanceMarshalsToJsonAndBack() throws Exception {
        AdapterModel<Label> model = trainer().train(TinyDatasets.labels(24, 1));
        ModelProvenance p = model.getProvenance();
        Helpers.testProvenanceMarshalling(p);
        JsonProvenanceSerialization json = new JsonProvenanceSerialization(true);
        ObjectProvenance back = json.deserializeAndUnmarshal(json.marshalAndSerialize(p));
        assertEquals(p, back);
        BaseModelProvenance base = (BaseModelProvenance) p.getInstanceProvenance().getMap()
                .get(AdapterTrainer.BASE_MODEL_KEY);
        assertEquals(model.backboneReference().weightsSha256(), base.weightsSha256());
        assertEquals("HF_FOLDER", base.kind());
        AdapterTrainerProvenance tp = (AdapterTrainerProvenance) p.getTrainerProvenance();
        assertEquals(base.weightsSha256(), tp.backboneSha256());
        model.close();
    }

    @Test
    void repeatedTrainingFollowsTribuosInvocationCountSemantics() {
        MutableDataset<Label> data = TinyDatasets.labels(24, 1);
        AdapterTrainer<Label> t = trainer();
        AdapterModel<Label> first = t.train(data);
        AdapterModel<Label> second = t.train(data);
        assertEquals(2, t.getInvocationCount());
        assertFalse(sameTensors(first, second), "the second call must draw new randomness");
        t.setInvocationCount(1);
        AdapterModel<Label> again = t.train(data);
        assertTrue(sameTensors(second, again), "invocation count 1 must reproduce the second model bit for bit");
        AdapterModel<Label> explicit = trainer().train(data, Map.of(), 1);
        assertTrue(sameTensors(second, explicit));
        TrainingRunProvenance run = (TrainingRunProvenance) again.getProvenance().getInstanceProvenance().getMap()
                .get(AdapterTrainer.TRAINING_RUN_KEY);
        assertEquals(new com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance("invocation-count", 1),
                run.fields().get("invocation-count"));
        for (AdapterModel<Label> m : List.of(first, second, again, explicit)) {
            m.close();
        }
    }

    static boolean sameTensors(AdapterModel<Label> a, AdapterModel<Label> b) {
        for (Map.Entry<String, HostTensor> e : a.trainedTensors().entrySet()) {
            if (!e.getValue().bitEquals(b.trainedTensors().get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void usersRunProvenanceEndsUpInTheModel() {
        Map<String, Provenance> extra = Map.of("experiment", new StringProvenance("experiment", "ablation-7"));
        AdapterModel<Label> model = trainer().train(TinyDatasets.labels(24, 1), extra);
        assertEquals(new StringProvenance("experiment", "ablation-7"),
                model.getProvenance().getInstanceProvenance().getMap().get("experiment"));
        model.close();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer().train(
                TinyDatasets.labels(24, 1), Map.of(AdapterTrainer.TRAINING_RUN_KEY, new StringProvenance("x", "y"))));
        assertTrue(e.getMessage().contains("reserved"));
    }

    @Test
    void missingOrEmptyTextIsReportedByExample() {
        LabelFactory f = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(new SimpleDataSourceProvenance("bad", TinyDatasets.TIME, f), f);
        data.addAll(TinyDatasets.examples(3, 1, TinyDatasets::label));
        ArrayExample<Label> noText = new ArrayExample<>(new Label("pos"), Map.of("body", "good"));
        noText.add(TextPresenceProcessor.FEATURE, 1.0);
        data.add(noText);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer().train(data));
        assertTrue(e.getMessage().contains("example 3") && e.getMessage().contains("'text'"), e.getMessage());

        MutableDataset<Label> empty = new MutableDataset<>(new SimpleDataSourceProvenance("bad", TinyDatasets.TIME, f), f);
        ArrayExample<Label> blank = new ArrayExample<>(new Label("pos"), Map.of("text", "   "));
        blank.add(TextPresenceProcessor.FEATURE, 1.0);
        empty.add(blank);
        e = assertThrows(IllegalArgumentException.class, () -> trainer().train(empty));
        assertTrue(e.getMessage().contains("example 0 has an empty text"), e.getMessage());
    }

    @Test
    void badSettingsAreRejectedByName() {
        var bad = assertThrows(com.oracle.labs.mlrg.olcut.config.PropertyException.class,
                () -> new AdapterTrainer<Label>(AdapterModelSerializationTest.TINY,
                        new LoraConfig(4, 8, 0.1, List.of("query")), 24, 0, 1, 1e-3, 1));
        assertTrue(bad.getMessage().contains("batchSize"), bad.getMessage());
    }
}
