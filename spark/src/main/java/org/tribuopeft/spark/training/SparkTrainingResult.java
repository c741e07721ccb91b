package org.tribuopeft.spark.training;

import org.tribuo.classification.Label;
import org.tribuopeft.plugin.AdapterModel;

import java.util.List;

/**
 * A finished data-parallel training: the model (its training-run provenance records the layout) and what each
 * replica of the successful stage attempt reported.
 *
 * @param model the trained model
 * @param replicas the replicas' reports, by rank
 */
public record SparkTrainingResult(AdapterModel<Label> model, List<ReplicaOutcome> replicas) {
    /** The stage attempt that finished (0 when nothing failed). */
    public int stageAttempt() {
        return replicas.get(0).stageAttempt();
    }

    /** The checkpoint step the finishing attempt resumed from (0: it ran from the start). */
    public int resumedAfterStep() {
        return replicas.get(0).resumedAfterStep();
    }
}
