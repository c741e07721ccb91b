package org.tribuopeft.adapters.relora;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns.Outcome;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.EpochResult;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;
import org.tribuopeft.adapters.train.TrainingReport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.assertSameOutcome;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.config;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.every;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.interruptAfter;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.train;

/**
 * A ReLoRA run resumed from a checkpoint continues with the merged base weights, bit for bit, and early
 * stopping restores the best epoch's base weights with its factors.
 */
class ReLoraCheckpointTest {
    @TempDir
    Path dir;

    /** Resets after steps 5, 10, 15 and 20 of 24, with dropout on the adapter input. */
    private static ReLoraConfig relora() {
        return new ReLoraConfig(4, 8, 0.1, List.of("query", "value"), 5, 0.99, 2);
    }

    @Test
    void resumingAfterResetsGivesTheUninterruptedRunBitForBit() throws Exception {
        Outcome uninterrupted = train(relora(), new FineTuner(config(9), ProgressListener.NONE));
        String base = "encoder.layer.1.attention.self.value.weight";
        HostTensor pretrained = TinyBert.backbone(5).weights().get(base);
        assertTrue(uninterrupted.tensors().get(base).maxAbsDiff(pretrained) > 1e-4,
                "the resets must have rewritten the base weight for the check to mean anything");

        // checkpoint-10 is saved right after the second reset; the run dies at step 11
        FineTuner interrupted = new FineTuner(config(9), interruptAfter(11)).withCheckpoints(every(dir, 10, 3));
        assertThrows(CheckpointRuns.Interrupted.class, () -> train(relora(), interrupted));
        Outcome resumed = train(relora(), new FineTuner(config(9), ProgressListener.NONE).resumingFrom(dir)
                .withNotices(System.err));
        assertSameOutcome(uninterrupted, resumed);
        assertFalse(uninterrupted.tensors().get(base).bitEquals(pretrained));
    }

    @Test
    void earlyStoppingRestoresTheBestEpochsRewrittenBaseToo() throws Exception {
        // inverted validation labels: an early epoch scores best, so patience 1 stops the run and restores it, whose
        // base weights differ from the last epoch's by the resets in between (every 5 steps, 12 steps per epoch)
        List<LabelledText> inverted = CheckpointRuns.VALID.stream()
                .map(e -> new LabelledText(e.text(), new float[] {e.target()[1], e.target()[0]})).toList();
        TrainingConfig patient = new TrainingConfig(4, 4, 2e-2, 0.0, 0.1, 1.0, 1, 16, 9);
        try (TextModel m = CheckpointRuns.model(relora())) {
            List<Map<String, HostTensor>> afterEpoch = new ArrayList<>();
            ProgressListener record = new ProgressListener() {
                @Override
                public void onEpoch(EpochResult result) {
                    afterEpoch.add(m.snapshot().values());
                }
            };
            TrainingReport r = new FineTuner(patient, record).fit(m, CheckpointRuns.TRAIN, inverted);
            assertTrue(r.stoppedEarly());
            // which epoch scores best depends on the exact trajectory; patience 1 stops one epoch after it
            int bestEpoch = r.bestEpoch();
            assertTrue(bestEpoch < 4, "best epoch " + bestEpoch);
            assertEquals(bestEpoch + 1, afterEpoch.size());
            Map<String, HostTensor> best = afterEpoch.get(bestEpoch - 1);
            String base = "encoder.layer.1.attention.self.value.weight";
            assertFalse(best.get(base).bitEquals(afterEpoch.get(bestEpoch).get(base)));
            Map<String, HostTensor> restored = m.snapshot().values();
            assertEquals(best.keySet(), restored.keySet());
            best.forEach((k, v) -> assertTrue(v.bitEquals(restored.get(k)), k));
        }
    }
}
