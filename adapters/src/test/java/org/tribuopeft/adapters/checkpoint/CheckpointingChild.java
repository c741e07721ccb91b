package org.tribuopeft.adapters.checkpoint;

import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.StepProgress;

import java.nio.file.Paths;

/**
 * The child JVM of {@link KilledTrainingTest}: the shared LoRA run with a checkpoint every 2 steps,
 * slowed to about 0.2 s a step so that the test can kill it mid-epoch.
 */
public final class CheckpointingChild {
    private CheckpointingChild() {}

    /**
     * Trains into a checkpoint folder.
     *
     * @param args the checkpoint folder
     */
    public static void main(String[] args) throws Exception {
        ProgressListener slow = new ProgressListener() {
            @Override
            public void onStep(StepProgress progress) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        CheckpointRuns.train(CheckpointRuns.lora(), new FineTuner(CheckpointRuns.config(9), slow)
                .withCheckpoints(CheckpointSettings.in(Paths.get(args[0]), 2, 3)));
        System.out.println("finished");
    }
}
