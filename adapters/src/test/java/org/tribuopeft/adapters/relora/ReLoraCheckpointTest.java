package org.tribuopeft.adapters.relora;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns.Outcome;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.assertSameOutcome;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.config;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.every;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.interruptAfter;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.train;

/** A ReLoRA run resumed from a checkpoint continues with the merged base weights, bit for bit. */
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
}
