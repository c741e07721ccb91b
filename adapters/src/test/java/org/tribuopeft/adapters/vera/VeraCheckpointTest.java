package org.tribuopeft.adapters.vera;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingReport;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** A checkpoint holds VeRA's projections: resuming on a model drawn from another generator gives the same run. */
class VeraCheckpointTest {
    private static final VeraConfig VERA = new VeraConfig(8, 0.1, 0.1, List.of("query", "value"));

    private static CheckpointRuns.Outcome train(long modelSeed, FineTuner tuner) throws Exception {
        try (TextModel m = TextModel.create(TinyBert.backbone(5), VERA, TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(modelSeed))) {
            TrainingReport r = tuner.fit(m, CheckpointRuns.TRAIN, CheckpointRuns.VALID);
            return new CheckpointRuns.Outcome(m.snapshot().values(), m.rankMasks(), r);
        }
    }

    @Test
    void resumingOnAModelWithOtherProjectionsGivesTheUninterruptedRunBitForBit(@TempDir Path dir) throws Exception {
        CheckpointRuns.Outcome uninterrupted = train(3, new FineTuner(CheckpointRuns.config(9), ProgressListener.NONE));
        FineTuner crashing = new FineTuner(CheckpointRuns.config(9), CheckpointRuns.interruptAfter(7))
                .withCheckpoints(CheckpointRuns.every(dir, 5, 3));
        assertThrows(CheckpointRuns.Interrupted.class, () -> train(3, crashing));
        CheckpointRuns.Outcome resumed = train(44, new FineTuner(CheckpointRuns.config(9), ProgressListener.NONE)
                .resumingFrom(dir));
        CheckpointRuns.assertSameOutcome(uninterrupted, resumed);
    }
}
