package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;

/**
 * Dropout as every layer of this library applies it: inverted dropout while training, the identity otherwise.
 * One place, so that the backbone, the adapters and the task head all draw their masks the same way (see
 * {@link TorchScriptOps#dropout}) from the engine's generator, which the trainer seeds per step.
 */
public final class TrainingDropout {
    private TrainingDropout() {
    }

    /**
     * {@code x} with dropout at rate {@code p} when {@code training} and {@code p > 0}, else {@code x} itself.
     *
     * @throws IllegalArgumentException if {@code p} is not in [0, 1)
     */
    public static NDArray apply(NDArray x, double p, boolean training) {
        requireRate(p);
        return training && p > 0 ? TorchScriptOps.get().dropout(x, p) : x;
    }

    /**
     * Refuses a dropout rate outside [0, 1), naming it: the one check every dropout of this library goes through.
     *
     * @throws IllegalArgumentException if {@code p} is not in [0, 1)
     */
    static void requireRate(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
    }
}
