package org.tribuopeft.adapters.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A training JVM killed with SIGKILL mid-epoch resumes from its checkpoints to the uninterrupted result. */
class KilledTrainingTest {
    @TempDir
    Path dir;

    @Test
    void aTrainingKilledMidEpochResumesToTheUninterruptedWeightsBitForBit() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                CheckpointingChild.class.getName(), dir.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolveSibling(dir.getFileName() + ".log").toFile())
                .start();
        Path mid = dir.resolve("checkpoint-4");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        while (!Files.exists(mid)) {
            if (!child.isAlive()) {
                fail("the child exited (" + child.exitValue() + ") before its first checkpoint: "
                        + Files.readString(dir.resolveSibling(dir.getFileName() + ".log")));
            }
            if (System.nanoTime() > deadline) {
                child.destroyForcibly();
                fail("no checkpoint after 45 s");
            }
            Thread.sleep(20);
        }
        child.destroyForcibly();
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        List<CheckpointFolder.Entry> left = CheckpointFolder.list(dir);
        int newest = left.get(0).step();
        assertTrue(newest < 2 * CheckpointRuns.STEPS_PER_EPOCH, "killed too late: checkpoint-" + newest);
        assertFalse(newest % CheckpointRuns.STEPS_PER_EPOCH == 0 && newest > 4, "not mid-epoch: " + newest);

        CheckpointRuns.Outcome resumed = CheckpointRuns.train(CheckpointRuns.lora(),
                new FineTuner(CheckpointRuns.config(9), ProgressListener.NONE).resumingFrom(dir)
                        .withCheckpoints(CheckpointSettings.in(dir, 2, 3)));
        CheckpointRuns.Outcome uninterrupted = CheckpointRuns.train(CheckpointRuns.lora(),
                new FineTuner(CheckpointRuns.config(9), ProgressListener.NONE));
        CheckpointRuns.assertSameOutcome(uninterrupted, resumed);
    }
}
