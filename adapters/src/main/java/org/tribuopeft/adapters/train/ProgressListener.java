package org.tribuopeft.adapters.train;

/** Receives training progress; the loop calls it after every step and every epoch. */
public interface ProgressListener {
    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() { };

    /** Called after each optimizer step. */
    default void onStep(StepProgress progress) { }

    /** Called after each epoch's evaluation. */
    default void onEpoch(EpochResult result) { }

    /** Called when early stopping ends training. */
    default void onEarlyStop(int epoch, int bestEpoch) { }
}
