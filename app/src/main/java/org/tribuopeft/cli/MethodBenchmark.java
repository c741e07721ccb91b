package org.tribuopeft.cli;

import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.method.UnknownMethodException;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextExamples;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Trains each method (in each requested compute precision) on the same real IMDB slice with all-MiniLM-L6-v2 and
 * prints a Markdown table: held-out accuracy and macro-F1, trainable parameters, median step time, inference throughput
 * unmerged and merged, the merged-vs-unmerged logit difference, and the process's peak resident memory.
 */
final class MethodBenchmark {
    private MethodBenchmark() {}

    /** The registered method with this name, with the settings it is benchmarked with. */
    static MethodDescriptor method(String name) {
        try {
            return MethodRegistry.byName(name.trim());
        } catch (UnknownMethodException e) {
            throw new CliException("--methods: " + e.getMessage());
        }
    }

    /**
     * Trains every method in every compute precision (in that order, same seed and data for all) and prints the
     * table after each row.
     */
    static void run(List<String> methods, List<ComputePrecision> precisions, int train, int test, int epochs,
                    int batchSize, long seed, PrintStream out) throws IOException {
        MutableDataset<Label> trainData = new MutableDataset<>(new ImdbDataSource(seed, 0, train));
        MutableDataset<Label> testData = new MutableDataset<>(new ImdbDataSource(seed, train, test));
        List<String> testTexts = TextExamples.texts(testData, "text");
        int steps = epochs * ((train + batchSize - 1) / batchSize);
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "IMDB, all-MiniLM-L6-v2, %d train / %d held-out reviews, 128 tokens, "
                + "%d epochs, batch %d, seed %d%n%n", train, test, epochs, batchSize, seed));
        table.append("| method | precision | lr | trainable params | held-out accuracy | macro-F1 | median step (s) | "
                + "train time (s) | predict (reviews/s) | merged predict (reviews/s) | max \\|merged − unmerged\\| logit "
                + "| peak RSS (MiB) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<MethodDescriptor> chosen = methods.stream().map(MethodBenchmark::method).toList();
        for (MethodDescriptor d : chosen) {
            for (ComputePrecision precision : precisions) {
                row(d, precision, steps, trainData, testData, testTexts, batchSize, epochs, seed, table, out);
            }
        }
    }

    /** Trains one method in one precision, evaluates it and appends its row (printing the table so far). */
    private static void row(MethodDescriptor d, ComputePrecision precision, int steps, MutableDataset<Label> trainData,
                            MutableDataset<Label> testData, List<String> testTexts, int batchSize, int epochs, long seed,
                            StringBuilder table, PrintStream out) {
        String name = d.name();
        double lr = d.benchmarkLearningRate();
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(d.benchmarkSettings(steps))
                .backbone(BundledModel.ALL_MINILM_L6_V2).batchSize(batchSize).epochs(epochs).minSteps(0)
                .learningRate(lr).computePrecision(precision).seed(seed).build();
        out.println("[benchmark] training " + name + " in " + precision.configName() + " ...");
        BenchmarkTraining trained = BenchmarkTraining.trainAndEvaluate(trainer, trainData, testData);
        AdapterModel<Label> model = trained.model();
        LabelEvaluation eval = trained.eval();
        TextModel tm = model.textModel();
        long p0 = System.nanoTime();
        float[][] unmerged = tm.predictLogits(testTexts, 64);
        double predictRate = testTexts.size() / ((System.nanoTime() - p0) / 1e9);
        String mergedRate = "n/a";
        String mergedDiff = "n/a";
        if (!tm.adapted().layers().isEmpty()) {
            tm.adapted().merge();
            long m0 = System.nanoTime();
            float[][] merged = tm.predictLogits(testTexts, 64);
            mergedRate = String.format(Locale.ROOT, "%.1f", testTexts.size() / ((System.nanoTime() - m0) / 1e9));
            tm.adapted().unmerge();
            double max = 0;
            for (int i = 0; i < merged.length; i++) {
                for (int j = 0; j < merged[i].length; j++) {
                    max = Math.max(max, Math.abs(merged[i][j] - unmerged[i][j]));
                }
            }
            mergedDiff = String.format(Locale.ROOT, "%.1e", max);
        }
        double median = trained.medianStepSeconds();
        table.append(String.format(Locale.ROOT, "| %s | %s | %.0e | %,d | %.4f | %.4f | %.2f | %.0f | %.1f | %s | %s | %d |%n",
                name, precision.configName(), lr, tm.trainableParameterCount(), eval.accuracy(), eval.macroAveragedF1(),
                median, trained.trainSeconds(), predictRate, mergedRate, mergedDiff, peakRssMiB()));
        out.print(table);
        model.close();
    }

    /** VmHWM of this process (Linux), in MiB; -1 elsewhere. */
    static long peakRssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
