package org.tribuopeft.adapters.train;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.checkpoint.CheckpointRuns;
import org.tribuopeft.adapters.method.AdapterMethod;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Two trainings on two threads of one JVM (as in Tribuo cross-validation) both succeed, each as if alone. */
class ConcurrentTrainingTest {

    private static CheckpointRuns.Outcome run(AdapterMethod method, long seed) throws Exception {
        return CheckpointRuns.train(method, new FineTuner(CheckpointRuns.config(seed), ProgressListener.NONE));
    }

    @Test
    void twoTrainingsOnTwoThreadsEachMatchTheSameRunAloneBitForBit() throws Exception {
        CheckpointRuns.Outcome loraAlone = run(CheckpointRuns.lora(), 9);
        CheckpointRuns.Outcome adaLoraAlone = run(CheckpointRuns.adaLora(), 10);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            Future<CheckpointRuns.Outcome> lora = pool.submit(() -> {
                go.await();
                return run(CheckpointRuns.lora(), 9);
            });
            Future<CheckpointRuns.Outcome> adaLora = pool.submit(() -> {
                go.await();
                return run(CheckpointRuns.adaLora(), 10);
            });
            go.countDown();
            CheckpointRuns.assertSameOutcome(loraAlone, lora.get(120, TimeUnit.SECONDS));
            CheckpointRuns.assertSameOutcome(adaLoraAlone, adaLora.get(120, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theDropoutSeedOfAStepDependsOnlyOnTheRunSeedAndTheStep() {
        assertEquals(FineTuner.stepSeed(42L, 7), FineTuner.stepSeed(42L, 7));
        assertEquals(100, IntStream.range(0, 100).map(s -> FineTuner.stepSeed(42L, s)).distinct().count());
        assertNotEquals(FineTuner.stepSeed(42L, 7), FineTuner.stepSeed(43L, 7));
    }
}
