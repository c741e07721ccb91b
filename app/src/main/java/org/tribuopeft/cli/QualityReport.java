package org.tribuopeft.cli;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.method.MethodDescriptor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the {@code quality} benchmark's CSV results: the Markdown table of mean accuracy and macro-F1 with 95 %
 * confidence intervals (Student's t over seeds), the marked section of a Markdown file, and the PNG charts (loss
 * curves per dataset, step time and peak memory per method, kept rank per layer for methods that prune ranks).
 */
final class QualityReport {
    /** The markers around the generated section of a Markdown file. */
    static final String DOCS_START = "<!-- quality:start -->";
    static final String DOCS_END = "<!-- quality:end -->";
    private static final Pattern LAYER = Pattern.compile("(?:^|.*\\.)layer\\.(\\d+)\\.(.+)$");

    private QualityReport() {}

    /**
     * A mean with the half width of its two-sided 95 % confidence interval.
     *
     * @param mean the sample mean
     * @param halfWidth t(0.975, n − 1) · s / √n; NaN for fewer than two values
     * @param n the number of values
     */
    record Interval(double mean, double halfWidth, int n) {
        /** The interval of these values. */
        static Interval of(List<Double> values) {
            SummaryStatistics st = new SummaryStatistics();
            values.forEach(st::addValue);
            int n = (int) st.getN();
            double half = n < 2 ? Double.NaN
                    : new TDistribution(n - 1).inverseCumulativeProbability(0.975) * st.getStandardDeviation()
                    / Math.sqrt(n);
            return new Interval(st.getMean(), half, n);
        }

        String format() {
            return Double.isNaN(halfWidth) ? String.format(Locale.ROOT, "%.4f", mean)
                    : String.format(Locale.ROOT, "%.4f ± %.4f", mean, halfWidth);
        }
    }

    static void render(QualityBenchmark.Settings s, QualityResults results, PrintStream out) throws IOException {
        List<String> methods = new ArrayList<>();
        methods.add(QualityBenchmark.BASELINE);
        s.methods().stream().map(MethodDescriptor::name).forEach(methods::add);
        String table = table(s, results, methods);
        out.print(table);
        AtomicFiles.writeString(s.work().resolve("summary.md"), table);
        if (s.docs() != null) {
            replaceSection(s.docs(), table);
            out.println("[quality] updated the quality section of " + s.docs().toAbsolutePath());
        }
        if (s.charts() != null) {
            for (Path p : charts(s, results, methods)) {
                out.println("[quality] wrote " + p);
            }
        }
    }

    /** The Markdown table with its setting and command. */
    static String table(QualityBenchmark.Settings s, QualityResults results, List<String> methods) {
        StringBuilder sb = new StringBuilder();
        sb.append("`").append(s.command()).append("`\n\n");
        sb.append(s.describe()).append(". Mean over seeds ± the half width of the 95 % confidence interval (Student's t, "
                + "n − 1 degrees of freedom); each seed draws its own training and test slices and trains a fresh "
                + "trainer with that seed. Median step and peak RSS are means over seeds (peak RSS: the process's "
                + "peak during that run, reset before it).\n\n");
        sb.append("| dataset | method | seeds | trainable params | accuracy | macro-F1 | median step (s) | "
                + "train time (s) | peak RSS (MiB) |\n|---|---|---|---|---|---|---|---|---|\n");
        for (String dataset : s.datasets()) {
            for (String method : methods) {
                List<QualityResults.Run> rows = results.runsOf(dataset, method);
                if (rows.isEmpty()) {
                    continue;
                }
                Interval acc = Interval.of(rows.stream().map(QualityResults.Run::accuracy).toList());
                Interval f1 = Interval.of(rows.stream().map(QualityResults.Run::macroF1).toList());
                double step = rows.stream().mapToDouble(QualityResults.Run::medianStepSeconds).average().orElse(Double.NaN);
                double train = rows.stream().mapToDouble(QualityResults.Run::trainSeconds).average().orElse(Double.NaN);
                double rss = rows.stream().mapToLong(QualityResults.Run::peakRssMiB).average().orElse(Double.NaN);
                sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %,d | %s | %s | %s | %.0f | %.0f |%n", dataset,
                        method, rows.size(), rows.get(0).trainableParams(), acc.format(), f1.format(),
                        Double.isNaN(step) ? "n/a" : String.format(Locale.ROOT, "%.2f", step), train, rss));
            }
        }
        sb.append(pairedDifferences(s.datasets(), results, methods));
        List<String> missing = new ArrayList<>();
        for (String dataset : s.datasets()) {
            for (String method : methods) {
                long done = results.runsOf(dataset, method).size();
                if (done < s.seeds()) {
                    missing.add(dataset + "/" + method + " (" + done + " of " + s.seeds() + " seeds)");
                }
            }
        }
        if (!missing.isEmpty()) {
            sb.append("\nIncomplete: the work folder has fewer runs than asked for ").append(String.join(", ", missing))
                    .append(".\n");
        }
        return sb.toString();
    }

    /**
     * Accuracy differences paired by seed: each method against the baseline and against the first listed method,
     * over the seeds both ran. A seed draws the same slices for every method, so the paired interval excludes the
     * slice-to-slice spread that widens the per-method intervals; empty when no pair shares two seeds.
     *
     * @param datasets the datasets, in table order
     * @param results the runs
     * @param methods the baseline followed by the methods, in table order
     */
    static String pairedDifferences(List<String> datasets, QualityResults results, List<String> methods) {
        List<String> references = methods.size() > 1 ? methods.subList(0, 2) : methods;
        StringBuilder rows = new StringBuilder();
        for (String dataset : datasets) {
            for (String method : methods.subList(1, methods.size())) {
                StringBuilder cells = new StringBuilder();
                boolean any = false;
                for (String reference : references) {
                    List<Double> diffs = new ArrayList<>();
                    if (!reference.equals(method)) {
                        for (QualityResults.Run r : results.runsOf(dataset, method)) {
                            results.runsOf(dataset, reference).stream().filter(x -> x.seed() == r.seed()).findFirst()
                                    .ifPresent(x -> diffs.add(r.accuracy() - x.accuracy()));
                        }
                    }
                    if (diffs.size() < 2) {
                        cells.append(" |");
                        continue;
                    }
                    any = true;
                    Interval d = Interval.of(diffs);
                    cells.append(String.format(Locale.ROOT, " %+.4f ± %.4f (%d) |", d.mean(), d.halfWidth(), d.n()));
                }
                if (any) {
                    rows.append("| ").append(dataset).append(" | ").append(method).append(" |").append(cells)
                            .append('\n');
                }
            }
        }
        if (rows.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("\nAccuracy difference paired by seed (this method's accuracy minus the "
                + "reference's on the same seed's slices; mean ± 95 % half width, Student's t; in brackets the number "
                + "of seeds both ran):\n\n| dataset | method |");
        references.forEach(r -> sb.append(" − ").append(r).append(" |"));
        sb.append("\n|---|---|").append("---|".repeat(references.size())).append('\n').append(rows);
        return sb.toString();
    }

    /** Replaces the text between the quality markers of a Markdown file, atomically. */
    static void replaceSection(Path file, String body) throws IOException {
        String text = Files.readString(file);
        int start = text.indexOf(DOCS_START);
        int end = text.indexOf(DOCS_END);
        if (start < 0 || end < start) {
            throw new CliException(file + " has no " + DOCS_START + " … " + DOCS_END + " section; add the two "
                    + "markers where the table should go");
        }
        AtomicFiles.writeString(file, text.substring(0, start + DOCS_START.length()) + "\n" + body
                + text.substring(end));
    }

    private static List<Path> charts(QualityBenchmark.Settings s, QualityResults results, List<String> methods)
            throws IOException {
        Files.createDirectories(s.charts());
        List<Path> written = new ArrayList<>();
        for (String dataset : s.datasets()) {
            Map<String, List<Double>> curves = new LinkedHashMap<>();
            for (String method : methods) {
                List<Double> mean = meanLosses(results, dataset, method);
                if (!mean.isEmpty()) {
                    curves.put(method, mean);
                }
            }
            if (!curves.isEmpty()) {
                written.add(write(s.charts().resolve("quality-loss-" + dataset + ".png"), Charts.lossCurves(
                        "Training loss, " + dataset + " (mean over seeds)", curves, 5, true, 900, 520)));
            }
        }
        Map<String, Map<String, Double>> step = new LinkedHashMap<>();
        Map<String, Map<String, Double>> rss = new LinkedHashMap<>();
        for (String dataset : s.datasets()) {
            for (String method : methods) {
                List<QualityResults.Run> rows = results.runsOf(dataset, method);
                if (rows.isEmpty()) {
                    continue;
                }
                double st = rows.stream().mapToDouble(QualityResults.Run::medianStepSeconds).average().orElse(Double.NaN);
                if (!Double.isNaN(st)) {
                    step.computeIfAbsent(dataset, k -> new LinkedHashMap<>()).put(method, st);
                }
                rss.computeIfAbsent(dataset, k -> new LinkedHashMap<>()).put(method,
                        rows.stream().mapToLong(QualityResults.Run::peakRssMiB).average().orElse(0));
            }
        }
        if (!step.isEmpty()) {
            written.add(write(s.charts().resolve("quality-step-time.png"), Charts.bars("Median training step",
                    "seconds per step", step, 900, 420)));
        }
        if (!rss.isEmpty()) {
            written.add(write(s.charts().resolve("quality-peak-memory.png"), Charts.bars("Peak resident memory per run",
                    "MiB", rss, 900, 420)));
        }
        for (String method : methods) {
            Path p = rankHeatMap(s, results, method);
            if (p != null) {
                written.add(p);
            }
        }
        return written;
    }

    /** The mean over seeds of each step's loss (steps that every seed ran). */
    static List<Double> meanLosses(QualityResults results, String dataset, String method) {
        Map<Long, Map<Integer, Double>> bySeed = new TreeMap<>();
        for (QualityResults.Loss l : results.losses) {
            if (l.dataset().equals(dataset) && l.method().equals(method)) {
                bySeed.computeIfAbsent(l.seed(), k -> new TreeMap<>()).put(l.step(), l.loss());
            }
        }
        List<Double> out = new ArrayList<>();
        if (bySeed.isEmpty()) {
            return out;
        }
        for (int step = 1; ; step++) {
            double sum = 0;
            for (Map<Integer, Double> losses : bySeed.values()) {
                Double v = losses.get(step);
                if (v == null) {
                    return out;
                }
                sum += v;
            }
            out.add(sum / bySeed.size());
        }
    }

    private static Path rankHeatMap(QualityBenchmark.Settings s, QualityResults results, String method)
            throws IOException {
        List<QualityResults.Rank> ranks = results.ranks.stream().filter(r -> r.method().equals(method)).toList();
        if (ranks.isEmpty()) {
            return null;
        }
        TreeSet<Integer> layers = new TreeSet<>();
        TreeSet<String> modules = new TreeSet<>();
        int initial = 0;
        for (QualityResults.Rank r : ranks) {
            Matcher m = LAYER.matcher(r.module());
            layers.add(m.matches() ? Integer.parseInt(m.group(1)) : 0);
            modules.add(m.matches() ? m.group(2) : r.module());
            initial = Math.max(initial, r.initial());
        }
        List<String> columns = new ArrayList<>();
        List<String[]> keys = new ArrayList<>();
        for (String dataset : s.datasets()) {
            for (String module : modules) {
                if (ranks.stream().anyMatch(r -> r.dataset().equals(dataset))) {
                    String shortName = module.substring(module.lastIndexOf('.') + 1);
                    columns.add(dataset + "\n" + shortName);
                    keys.add(new String[] {dataset, module});
                }
            }
        }
        List<Integer> layerList = new ArrayList<>(layers);
        double[][] values = new double[layerList.size()][columns.size()];
        for (int row = 0; row < layerList.size(); row++) {
            for (int c = 0; c < keys.size(); c++) {
                int layer = layerList.get(row);
                String[] key = keys.get(c);
                values[row][c] = ranks.stream().filter(r -> r.dataset().equals(key[0])).filter(r -> {
                    Matcher m = LAYER.matcher(r.module());
                    return m.matches() ? Integer.parseInt(m.group(1)) == layer && m.group(2).equals(key[1])
                            : layer == 0 && r.module().equals(key[1]);
                }).mapToInt(QualityResults.Rank::kept).average().orElse(Double.NaN);
            }
        }
        List<String> rowLabels = layerList.stream().map(l -> "layer " + l).toList();
        return write(s.charts().resolve("quality-ranks-" + method + ".png"), Charts.heatMap(method
                + ": kept rank per layer at the end (mean over seeds)", rowLabels, columns, values, initial));
    }

    private static Path write(Path file, byte[] png) throws IOException {
        AtomicFiles.write(file, o -> o.write(png));
        return file;
    }
}
