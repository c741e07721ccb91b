package org.tribuopeft.adapters.train;

import org.tribuopeft.adapters.checkpoint.TrainingState;
import org.tribuopeft.adapters.method.TrainingHook;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Where the training loop is, and the bookkeeping a checkpoint saves besides the tensors. */
final class LoopPosition {
    int step;
    int epoch = 1;
    int nextBatch;
    double lossSum;
    boolean stoppedEarly;
    final List<EpochResult> epochs = new ArrayList<>();
    double bestMetric = Double.NaN;
    int bestEpoch;
    int epochsWithoutImprovement;
    TextModel.Snapshot best;
    int[] resumedOrder = new int[0];
    Path lastCheckpoint;

    /** The checkpoint content at this position. */
    TrainingState toState(int[] order, Map<String, String> fingerprint, TextModel.Snapshot now, AdamW optimizer,
                          TrainingHook hook) {
        return new TrainingState(step, epoch, nextBatch, lossSum, order, stoppedEarly, epochs, bestMetric, bestEpoch,
                epochsWithoutImprovement, fingerprint, now.values(), now.rankMasks(), optimizer.firstMoments(),
                optimizer.secondMoments(), optimizer.steps(), hook.checkpointState(),
                best == null ? Map.of() : best.values(), best == null ? Map.of() : best.rankMasks());
    }

    /** Moves to where a checkpoint left off. */
    void continueFrom(TrainingState s, Path checkpoint) {
        step = s.globalStep();
        epoch = s.epoch();
        nextBatch = s.nextBatch();
        lossSum = s.epochLossSum();
        resumedOrder = s.order();
        stoppedEarly = s.stoppedEarly();
        epochs.clear();
        epochs.addAll(s.epochs());
        bestMetric = s.bestMetric();
        bestEpoch = s.bestEpoch();
        epochsWithoutImprovement = s.epochsWithoutImprovement();
        best = s.hasBest() ? new TextModel.Snapshot(s.bestParameters(), s.bestRankMasks()) : null;
        lastCheckpoint = checkpoint;
    }
}
