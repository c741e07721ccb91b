package org.tribuopeft.adapters.checkpoint;

import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.EpochResult;

import java.util.List;
import java.util.Map;

/**
 * Everything the training loop needs to continue a run exactly where it stopped. The shuffle order
 * and dropout masks are not stored as generator states: both are drawn from the run's seed by epoch
 * and by step, so the position (epoch, batch, global step) determines them.
 *
 * @param globalStep optimizer steps completed
 * @param epoch the epoch in progress, or the next one to start when {@code nextBatch} is 0 (1-based)
 * @param nextBatch index of the next batch within {@code epoch}
 * @param epochLossSum sum of the losses of the batches of {@code epoch} already run
 * @param order the epoch's example order when it is in progress, else empty
 * @param stoppedEarly true when early stopping has ended the run
 * @param epochs results of the finished epochs
 * @param bestMetric the best validation metric so far (NaN before any)
 * @param bestEpoch the epoch that achieved it (0 before any)
 * @param epochsWithoutImprovement epochs since the best one
 * @param fingerprint what identifies the run: seed, data, method and loop settings
 * @param parameters every trainable tensor by full name
 * @param rankMasks AdaLoRA kept-triplet masks by module (empty for other methods)
 * @param firstMoments AdamW first moments by parameter name
 * @param secondMoments AdamW second moments by parameter name
 * @param optimizerSteps AdamW's step count (its bias corrections depend on it)
 * @param hookState the method hook's own state (AdaLoRA's allocator)
 * @param bestParameters trainable tensors of the best epoch kept for early stopping, or empty
 * @param bestRankMasks AdaLoRA masks of the best epoch, or empty
 */
public record TrainingState(int globalStep, int epoch, int nextBatch, double epochLossSum, int[] order,
                            boolean stoppedEarly, List<EpochResult> epochs, double bestMetric, int bestEpoch,
                            int epochsWithoutImprovement, Map<String, String> fingerprint,
                            Map<String, HostTensor> parameters, Map<String, boolean[]> rankMasks,
                            Map<String, HostTensor> firstMoments, Map<String, HostTensor> secondMoments,
                            int optimizerSteps, Map<String, HostTensor> hookState,
                            Map<String, HostTensor> bestParameters, Map<String, boolean[]> bestRankMasks) {

    /** Copies the collections. */
    public TrainingState {
        order = order.clone();
        epochs = List.copyOf(epochs);
        fingerprint = Map.copyOf(fingerprint);
    }

    /** True when a best-epoch snapshot is stored. */
    public boolean hasBest() {
        return !bestParameters.isEmpty();
    }
}
