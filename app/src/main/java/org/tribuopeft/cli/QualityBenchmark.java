package org.tribuopeft.cli;

import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.train.TrainingReport;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code quality} command: held-out accuracy and macro-F1 over several seeds, with 95 % confidence intervals, of
 * the frozen-embedding baseline and every registered method on real datasets. Each seed draws its own data slices
 * and trains a fresh trainer with that seed. Results go to CSV files in a work folder after every run (an interrupted
 * benchmark continues where it stopped); the table, a Markdown section and the charts are rendered from them.
 */
final class QualityBenchmark {
    /** The name of the frozen-embedding logistic-regression baseline in tables and files. */
    static final String BASELINE = "frozen-embedding";

    /**
     * What to run.
     *
     * @param datasets dataset names ({@link QualityData#NAMES})
     * @param methods the methods, in table order
     * @param seeds seeds per dataset and method
     * @param firstSeed the first seed; seed i is firstSeed + i
     * @param train training examples per seed
     * @param test held-out examples per seed
     * @param epochs passes over the training data
     * @param batchSize examples per step
     * @param maxLength tokens per text
     * @param work the folder of the CSV results
     * @param charts folder for the PNG charts, or null for none
     * @param docs a Markdown file whose quality section to rewrite, or null
     * @param command the command line, shown with the table
     * @param renderOnly render from the results in {@code work} without running anything
     */
    record Settings(List<String> datasets, List<MethodDescriptor> methods, int seeds, long firstSeed, int train,
                    int test, int epochs, int batchSize, int maxLength, Path work, Path charts, Path docs,
                    String command, boolean renderOnly) {
        /** Checks the counts. */
        Settings {
            if (seeds < 2) {
                throw new CliException("--seeds must be at least 2 for a confidence interval, got " + seeds);
            }
            if (train <= 0 || test <= 0 || epochs <= 0 || batchSize <= 0 || maxLength < 8) {
                throw new CliException("--train, --test, --epochs and --batch-size must be positive and --max-length "
                        + "at least 8");
            }
            datasets.forEach(d -> {
                if (!QualityData.NAMES.contains(d)) {
                    throw new CliException("--datasets: unknown dataset '" + d + "'; known: "
                            + String.join(", ", QualityData.NAMES));
                }
            });
        }

        /** One line describing the setting, stored with the results so a continued run cannot mix settings. */
        String describe() {
            return String.format(Locale.ROOT, "all-MiniLM-L6-v2, %d train / %d held-out examples per seed, %d tokens, "
                    + "%d epochs, batch %d, seeds %d..%d", train, test, maxLength, epochs, batchSize, firstSeed,
                    firstSeed + seeds - 1);
        }
    }

    private QualityBenchmark() {}

    static void run(Settings s, PrintStream out) throws IOException {
        Files.createDirectories(s.work());
        Path settingsFile = s.work().resolve("settings.txt");
        if (Files.exists(settingsFile) && !Files.readString(settingsFile).strip().equals(s.describe())) {
            throw new CliException(s.work() + " holds results of another setting (" + Files.readString(settingsFile)
                    .strip() + "); give another --work folder or the same settings");
        }
        AtomicFiles.writeString(settingsFile, s.describe() + "\n");
        QualityResults results = QualityResults.read(s.work());
        if (!s.renderOnly()) {
            // seed by seed, so that an interrupted benchmark has every dataset and method at the same seeds
            for (int i = 0; i < s.seeds(); i++) {
                for (String dataset : s.datasets()) {
                    runSeed(s, dataset, s.firstSeed() + i, results, out);
                }
            }
        }
        QualityReport.render(s, results, out);
    }

    private static void runSeed(Settings s, String dataset, long seed, QualityResults results, PrintStream out)
            throws IOException {
        QualityData.Split data = null;
        if (!results.has(dataset, BASELINE, seed)) {
            data = QualityData.load(dataset, seed, s.train(), s.test());
            PeakMemory.reset();
            long t0 = System.nanoTime();
            LabelEvaluation e = ImdbDemo.frozenEmbeddingBaseline(data.train(), data.test(), s.maxLength());
            double secs = (System.nanoTime() - t0) / 1e9;
            results.runs.add(new QualityResults.Run(dataset, BASELINE, seed, e.accuracy(), e.macroAveragedF1(), 0,
                    Double.NaN, secs, PeakMemory.peakMiB()));
            results.write(s.work());
            print(out, results.runs.get(results.runs.size() - 1));
        }
        int steps = s.epochs() * ((s.train() + s.batchSize() - 1) / s.batchSize());
        for (MethodDescriptor d : s.methods()) {
            if (results.has(dataset, d.name(), seed)) {
                continue;
            }
            if (data == null) {
                data = QualityData.load(dataset, seed, s.train(), s.test());
            }
            // a fresh trainer per seed: nothing of an earlier run's state can leak into this one
            AdapterTrainer<Label> trainer = AdapterTrainer.builder(d.benchmarkSettings(steps))
                    .backbone(BundledModel.ALL_MINILM_L6_V2).maxLength(s.maxLength()).batchSize(s.batchSize())
                    .epochs(s.epochs()).minSteps(0).learningRate(d.benchmarkLearningRate()).seed(seed)
                    .progressSeconds(0).build();
            PeakMemory.reset();
            long t0 = System.nanoTime();
            try (AdapterModel<Label> model = trainer.train(data.train())) {
                double secs = (System.nanoTime() - t0) / 1e9;
                LabelEvaluation e = new LabelEvaluator().evaluate(model, data.test());
                long peak = PeakMemory.peakMiB();
                TrainingReport report = model.trainingReport().orElseThrow();
                results.runs.add(new QualityResults.Run(dataset, d.name(), seed, e.accuracy(), e.macroAveragedF1(),
                        model.textModel().trainableParameterCount(), report.medianStepSeconds(), secs, peak));
                List<Double> losses = report.stepLosses();
                int first = report.stepsRun() - losses.size() + 1;
                for (int i = 0; i < losses.size(); i++) {
                    results.losses.add(new QualityResults.Loss(dataset, d.name(), seed, first + i, losses.get(i)));
                }
                for (Map.Entry<String, boolean[]> m : model.textModel().rankMasks().entrySet()) {
                    int kept = 0;
                    for (boolean b : m.getValue()) {
                        kept += b ? 1 : 0;
                    }
                    results.ranks.add(new QualityResults.Rank(dataset, d.name(), seed, m.getKey(), kept,
                            m.getValue().length));
                }
            }
            results.write(s.work());
            print(out, results.runs.get(results.runs.size() - 1));
        }
    }

    private static void print(PrintStream out, QualityResults.Run r) {
        out.printf(Locale.ROOT, "[quality] %s %s seed %d: accuracy %.4f, macro-F1 %.4f, train %.0f s, peak RSS %d MiB%n",
                r.dataset(), r.method(), r.seed(), r.accuracy(), r.macroF1(), r.trainSeconds(), r.peakRssMiB());
        out.flush();
    }
}
