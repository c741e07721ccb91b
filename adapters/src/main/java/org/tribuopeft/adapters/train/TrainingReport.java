package org.tribuopeft.adapters.train;

import java.util.List;

/**
 * What a training run did.
 *
 * @param epochs per-epoch results, in order
 * @param plannedEpochs epochs the run was planned for
 * @param plannedSteps steps the run was planned for (epochs × batches per epoch)
 * @param stepsRun steps actually taken
 * @param bestEpoch the epoch whose weights the model holds at the end (1-based)
 * @param stoppedEarly true when early stopping ended the run
 * @param medianStepSeconds median wall time of one optimizer step
 * @param meanStepSeconds mean wall time of one optimizer step
 * @param totalSeconds wall time of the whole run
 * @param stepLosses the loss of each step this process ran, in order (a resumed run's list starts at the step it
 *     resumed from, so its first entry is step {@code stepsRun - stepLosses.size() + 1}); for loss curves
 */
public record TrainingReport(List<EpochResult> epochs, int plannedEpochs, int plannedSteps, int stepsRun, int bestEpoch,
                             boolean stoppedEarly, double medianStepSeconds, double meanStepSeconds,
                             double totalSeconds, List<Double> stepLosses) {

    /** Copies the lists. */
    public TrainingReport {
        epochs = List.copyOf(epochs);
        stepLosses = List.copyOf(stepLosses);
    }

    /** A report without per-step losses (for reports rebuilt from provenance, which keeps only epochs). */
    public TrainingReport(List<EpochResult> epochs, int plannedEpochs, int plannedSteps, int stepsRun, int bestEpoch,
                          boolean stoppedEarly, double medianStepSeconds, double meanStepSeconds, double totalSeconds) {
        this(epochs, plannedEpochs, plannedSteps, stepsRun, bestEpoch, stoppedEarly, medianStepSeconds,
                meanStepSeconds, totalSeconds, List.of());
    }

    /** The result of the epoch whose weights were kept. */
    public EpochResult best() {
        return epochs.get(bestEpoch - 1);
    }

    /** The last epoch run. */
    public EpochResult last() {
        return epochs.get(epochs.size() - 1);
    }
}
