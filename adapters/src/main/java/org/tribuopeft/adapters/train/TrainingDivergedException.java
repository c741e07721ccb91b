package org.tribuopeft.adapters.train;

import java.nio.file.Path;

/**
 * The loss or a gradient became NaN or infinite, so training stopped before the bad values reached
 * the weights. The message names the epoch, the step, the parameter (for a gradient) and the last
 * checkpoint on disk, which is kept and can be resumed from after lowering the learning rate.
 */
public final class TrainingDivergedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final int epoch;
    private final int step;
    private final String parameter;
    private final transient Path lastCheckpoint;

    /**
     * Creates the exception.
     *
     * @param epoch the 1-based epoch
     * @param step the 1-based global step whose loss or gradient was not finite
     * @param parameter the parameter whose gradient was not finite, or null when the loss was not
     * @param lastCheckpoint the newest checkpoint on disk, or null when there is none
     * @param message the full explanation
     */
    public TrainingDivergedException(int epoch, int step, String parameter, Path lastCheckpoint, String message) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.parameter = parameter;
        this.lastCheckpoint = lastCheckpoint;
    }

    /** The 1-based epoch. */
    public int epoch() {
        return epoch;
    }

    /** The 1-based global step. */
    public int step() {
        return step;
    }

    /** The parameter with a non-finite gradient, or null when the loss itself was not finite. */
    public String parameter() {
        return parameter;
    }

    /** The newest checkpoint on disk, or null. */
    public Path lastCheckpoint() {
        return lastCheckpoint;
    }
}
