package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import org.junit.jupiter.api.Test;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A setter that re-validates the trainer keeps its random stream in step with its invocation count, so the
 * provenance of the next model names the randomness it really used.
 */
class TrainerReconfigurationTest {

    @Test
    void reconfiguringAfterTwoCallsTrainsTheThirdModelThatProvenanceNames() {
        MutableDataset<Label> data = TinyDatasets.labels(24, 1);
        AdapterTrainer<Label> t = AdapterTrainerTest.trainer();
        AdapterModel<Label> first = t.train(data);
        AdapterModel<Label> second = t.train(data);
        t.withValidation(0, 0);
        AdapterModel<Label> third = t.train(data);
        AdapterTrainer<Label> fresh = AdapterTrainerTest.trainer();
        fresh.setInvocationCount(2);
        AdapterModel<Label> expected = fresh.train(data);
        assertFalse(AdapterTrainerTest.sameTensors(first, third), "the third call must not repeat the first's randomness");
        assertTrue(AdapterTrainerTest.sameTensors(expected, third), "the third call must equal invocation count 2");
        TrainingRunProvenance run = (TrainingRunProvenance) third.getProvenance().getInstanceProvenance().getMap()
                .get(AdapterTrainer.TRAINING_RUN_KEY);
        assertEquals(new IntProvenance("invocation-count", 2), run.fields().get("invocation-count"));
        assertEquals(3, t.getInvocationCount());
        for (AdapterModel<Label> m : List.of(first, second, third, expected)) {
            m.close();
        }
    }
}
