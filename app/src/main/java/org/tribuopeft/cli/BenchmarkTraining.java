package org.tribuopeft.cli;

import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import org.tribuo.Dataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.provenance.TrainingRunProvenance;

/**
 * One timed training run of a benchmark command and its held-out evaluation: what {@code benchmark} and
 * {@code qlora-benchmark} both report (wall-clock training time, the recorded median step, accuracy).
 *
 * @param model the trained model; the caller closes it
 * @param trainSeconds wall-clock seconds of {@link AdapterTrainer#train}
 * @param run the training-run provenance the trainer recorded
 * @param eval the evaluation on the held-out data
 */
record BenchmarkTraining(AdapterModel<Label> model, double trainSeconds, TrainingRunProvenance run,
                         LabelEvaluation eval) {

    /** Trains on {@code train}, timing it, and evaluates the model on {@code test}. */
    static BenchmarkTraining trainAndEvaluate(AdapterTrainer<Label> trainer, Dataset<Label> train, Dataset<Label> test) {
        long t0 = System.nanoTime();
        AdapterModel<Label> model = trainer.train(train);
        double seconds = (System.nanoTime() - t0) / 1e9;
        TrainingRunProvenance run = (TrainingRunProvenance) model.getProvenance().getInstanceProvenance().getMap()
                .get(AdapterTrainer.TRAINING_RUN_KEY);
        return new BenchmarkTraining(model, seconds, run, new LabelEvaluator().evaluate(model, test));
    }

    /** The run's recorded median step time in seconds, NaN when the run recorded none. */
    double medianStepSeconds() {
        var p = run.fields().get("median-step-seconds");
        return p == null ? Double.NaN : (Double) ((PrimitiveProvenance<?>) p).getValue();
    }
}
