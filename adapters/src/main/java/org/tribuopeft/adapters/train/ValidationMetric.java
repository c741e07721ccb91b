package org.tribuopeft.adapters.train;

/**
 * The validation metric of a task, used for reporting and early stopping: accuracy for single-label,
 * micro-averaged F1 at threshold 0.5 for multi-label, root mean squared error for regression.
 */
public final class ValidationMetric {
    private ValidationMetric() {}

    /** The metric's name for a task. */
    public static String name(TaskKind task) {
        return switch (task) {
            case SINGLE_LABEL -> "accuracy";
            case MULTI_LABEL -> "micro_f1";
            case REGRESSION -> "rmse";
        };
    }

    /** True when larger values are better. */
    public static boolean higherIsBetter(TaskKind task) {
        return task != TaskKind.REGRESSION;
    }

    /**
     * Computes the metric.
     *
     * @param outputs activated model outputs [examples][outputs]
     * @param targets target rows [examples][outputs]
     */
    public static double compute(TaskKind task, float[][] outputs, float[][] targets) {
        if (outputs.length == 0) {
            return Double.NaN;
        }
        switch (task) {
            case SINGLE_LABEL -> {
                int correct = 0;
                for (int i = 0; i < outputs.length; i++) {
                    correct += argmax(outputs[i]) == argmax(targets[i]) ? 1 : 0;
                }
                return (double) correct / outputs.length;
            }
            case MULTI_LABEL -> {
                long tp = 0;
                long fp = 0;
                long fn = 0;
                for (int i = 0; i < outputs.length; i++) {
                    for (int j = 0; j < outputs[i].length; j++) {
                        boolean pred = outputs[i][j] >= 0.5f;
                        boolean gold = targets[i][j] >= 0.5f;
                        tp += pred && gold ? 1 : 0;
                        fp += pred && !gold ? 1 : 0;
                        fn += !pred && gold ? 1 : 0;
                    }
                }
                return tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
            }
            case REGRESSION -> {
                double sq = 0;
                long n = 0;
                for (int i = 0; i < outputs.length; i++) {
                    for (int j = 0; j < outputs[i].length; j++) {
                        double d = outputs[i][j] - targets[i][j];
                        sq += d * d;
                        n++;
                    }
                }
                return Math.sqrt(sq / n);
            }
            default -> throw new IllegalStateException(task.toString());
        }
    }

    /** Index of the largest value (first on ties). */
    public static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
