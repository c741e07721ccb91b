package org.tribuopeft.adapters.checkpoint;

import java.nio.file.Path;

/**
 * Where and how often the training loop saves checkpoints. Checkpoints never change what is trained:
 * a run with them gives the same weights bit for bit as one without.
 *
 * @param directory the folder holding the {@code checkpoint-<step>} folders, or null for no checkpoints
 * @param everySteps also save every this many optimizer steps; 0 saves only at epoch ends
 * @param kept how many of the newest checkpoints to keep (older ones of ours are deleted)
 */
public record CheckpointSettings(Path directory, int everySteps, int kept) {
    /** No checkpoints. */
    public static final CheckpointSettings OFF = new CheckpointSettings(null, 0, 1);

    /** Validates the numbers, naming the one at fault. */
    public CheckpointSettings {
        if (everySteps < 0) {
            throw new IllegalArgumentException("checkpointEverySteps must be >= 0 (0 = only at epoch ends), got "
                    + everySteps);
        }
        if (kept < 1) {
            throw new IllegalArgumentException("checkpointsKept must be at least 1, got " + kept);
        }
    }

    /** Checkpoints in {@code directory} every {@code everySteps} steps and at epoch ends, keeping {@code kept}. */
    public static CheckpointSettings in(Path directory, int everySteps, int kept) {
        return new CheckpointSettings(directory, everySteps, kept);
    }

    /** True when checkpoints are written. */
    public boolean enabled() {
        return directory != null;
    }
}
