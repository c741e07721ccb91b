package org.tribuopeft.cli;

import org.tribuopeft.adapters.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code quality} benchmark's results as three CSV files in its work folder, rewritten atomically after each run
 * so an interrupted benchmark keeps what it finished and continues from there: {@code runs.csv} (one row per dataset,
 * method and seed), {@code losses.csv} (the loss of every step) and {@code ranks.csv} (each adapted module's kept
 * rank at the end, for methods that prune ranks).
 */
final class QualityResults {
    static final String RUNS = "runs.csv";
    static final String LOSSES = "losses.csv";
    static final String RANKS = "ranks.csv";
    private static final String RUNS_HEADER = "dataset,method,seed,accuracy,macro_f1,trainable_params,median_step_s,"
            + "train_s,peak_rss_mib";
    private static final String LOSSES_HEADER = "dataset,method,seed,step,loss";
    private static final String RANKS_HEADER = "dataset,method,seed,module,kept,initial";

    /**
     * One training run.
     *
     * @param trainableParams trainable parameters, head included (0 for the baseline's logistic regression)
     * @param medianStepSeconds median wall time of one optimizer step, NaN for the baseline
     * @param trainSeconds wall time of training (embedding included for the baseline)
     * @param peakRssMiB the process's peak resident memory during this run, -1 where unknown
     */
    record Run(String dataset, String method, long seed, double accuracy, double macroF1, long trainableParams,
               double medianStepSeconds, double trainSeconds, long peakRssMiB) {}

    /** The loss of one step. */
    record Loss(String dataset, String method, long seed, int step, double loss) {}

    /** The rank one module kept at the end of a run, of the rank it started with. */
    record Rank(String dataset, String method, long seed, String module, int kept, int initial) {}

    final List<Run> runs = new ArrayList<>();
    final List<Loss> losses = new ArrayList<>();
    final List<Rank> ranks = new ArrayList<>();

    /** The runs of one dataset and method, in the order they were recorded. */
    List<Run> runsOf(String dataset, String method) {
        return runs.stream().filter(r -> r.dataset().equals(dataset) && r.method().equals(method)).toList();
    }

    /** Whether this dataset, method and seed already ran. */
    boolean has(String dataset, String method, long seed) {
        return runsOf(dataset, method).stream().anyMatch(r -> r.seed() == seed);
    }

    /** Reads the results in {@code dir}; an empty set where there are none yet. */
    static QualityResults read(Path dir) throws IOException {
        QualityResults out = new QualityResults();
        for (String[] f : rows(dir.resolve(RUNS), RUNS_HEADER, 9)) {
            out.runs.add(new Run(f[0], f[1], Long.parseLong(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                    Long.parseLong(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]), Long.parseLong(f[8])));
        }
        for (String[] f : rows(dir.resolve(LOSSES), LOSSES_HEADER, 5)) {
            out.losses.add(new Loss(f[0], f[1], Long.parseLong(f[2]), Integer.parseInt(f[3]), Double.parseDouble(f[4])));
        }
        for (String[] f : rows(dir.resolve(RANKS), RANKS_HEADER, 6)) {
            out.ranks.add(new Rank(f[0], f[1], Long.parseLong(f[2]), f[3], Integer.parseInt(f[4]),
                    Integer.parseInt(f[5])));
        }
        return out;
    }

    private static List<String[]> rows(Path file, String header, int fields) throws IOException {
        List<String[]> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        List<String> lines = Files.readAllLines(file);
        if (lines.isEmpty() || !lines.get(0).equals(header)) {
            throw new InputFileException(file, 1, "is not a quality benchmark file: its header should be '" + header
                    + "'; give another --work folder");
        }
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", -1);
            if (f.length != fields) {
                throw new InputFileException(file, i + 1, "has " + f.length + " fields, expected " + fields);
            }
            out.add(f);
        }
        return out;
    }

    /** Writes the three files into {@code dir}, each atomically. */
    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringBuilder r = new StringBuilder(RUNS_HEADER).append('\n');
        for (Run x : runs) {
            r.append(String.format(Locale.ROOT, "%s,%s,%d,%.6f,%.6f,%d,%.4f,%.2f,%d%n", x.dataset(), x.method(),
                    x.seed(), x.accuracy(), x.macroF1(), x.trainableParams(), x.medianStepSeconds(), x.trainSeconds(),
                    x.peakRssMiB()));
        }
        StringBuilder l = new StringBuilder(LOSSES_HEADER).append('\n');
        for (Loss x : losses) {
            l.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%s%n", x.dataset(), x.method(), x.seed(), x.step(),
                    Double.toString(x.loss())));
        }
        StringBuilder k = new StringBuilder(RANKS_HEADER).append('\n');
        for (Rank x : ranks) {
            k.append(String.format(Locale.ROOT, "%s,%s,%d,%s,%d,%d%n", x.dataset(), x.method(), x.seed(), x.module(),
                    x.kept(), x.initial()));
        }
        AtomicFiles.writeString(dir.resolve(RUNS), r.toString());
        AtomicFiles.writeString(dir.resolve(LOSSES), l.toString());
        AtomicFiles.writeString(dir.resolve(RANKS), k.toString());
    }
}
