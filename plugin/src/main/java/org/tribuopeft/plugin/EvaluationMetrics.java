package org.tribuopeft.plugin;

import org.tribuo.classification.evaluation.ClassifierEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.evaluation.Evaluation;
import org.tribuo.multilabel.evaluation.MultiLabelEvaluation;
import org.tribuo.regression.evaluation.RegressionEvaluation;

import java.util.LinkedHashMap;
import java.util.Map;

/** The headline numbers of a Tribuo evaluation, by output type, for metrics.json and console output. */
public final class EvaluationMetrics {
    private EvaluationMetrics() {}

    /** accuracy and macro-F1 for labels; RMSE, MAE and R² for regression; Jaccard and F1s for multi-label. */
    public static Map<String, Double> of(Evaluation<?> evaluation) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (evaluation instanceof LabelEvaluation e) {
            m.put("accuracy", e.accuracy());
            m.put("macro_f1", e.macroAveragedF1());
            m.put("micro_f1", e.microAveragedF1());
        } else if (evaluation instanceof MultiLabelEvaluation e) {
            m.put("jaccard", e.jaccardScore());
            m.put("micro_f1", e.microAveragedF1());
            m.put("macro_f1", e.macroAveragedF1());
        } else if (evaluation instanceof ClassifierEvaluation<?> e) {
            m.put("macro_f1", e.macroAveragedF1());
        } else if (evaluation instanceof RegressionEvaluation e) {
            m.put("rmse", e.averageRMSE());
            m.put("mae", e.averageMAE());
            m.put("r2", e.averageR2());
        }
        return m;
    }
}
