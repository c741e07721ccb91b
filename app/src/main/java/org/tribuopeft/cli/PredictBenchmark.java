package org.tribuopeft.cli;

import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prediction speed of an adapted model against its base: the plain encoder (the method that adds no
 * layers, full fine-tuning before any step), the adapted model with its adapters unmerged, and the same
 * model merged. The three predict the same reviews in turn, round after round in one process, so that
 * the machine's drift over minutes falls on all three alike; the merged-to-base ratio is taken round by
 * round. A merged low-rank adapter leaves the encoder's shapes unchanged, so it should predict at the
 * base's speed; the unmerged row shows what serving adapters unmerged costs.
 */
final class PredictBenchmark {
    private PredictBenchmark() {}

    /**
     * Runs the comparison and prints a Markdown table.
     *
     * @param method the adapter method (by registered name) to compare with the base
     * @param baseMethod a registered method that adds no adapter layers (full fine-tuning before its first step):
     *     the plain encoder
     * @param texts reviews predicted per configuration per round
     * @param rounds rounds after one warm-up round
     * @param batchSize texts per forward pass
     * @param seed chooses the reviews and the adapter's initialisation
     */
    static void run(String method, String baseMethod, int texts, int rounds, int batchSize, long seed, PrintStream out)
            throws IOException {
        if (texts <= 0 || rounds <= 0 || batchSize <= 0) {
            throw new CliException("--texts, --rounds and --batch-size must be positive");
        }
        MethodDescriptor adapted = MethodRegistry.byName(method);
        MethodDescriptor plain = MethodRegistry.byName(baseMethod);
        List<String> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), seed).stream().limit(texts)
                .map(ImdbReviews.Review::text).toList();
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        try (TextModel base = create(backbone, plain.benchmarkSettings(1), seed);
             TextModel model = create(backbone, adapted.benchmarkSettings(1), seed)) {
            if (!base.adapted().layers().isEmpty()) {
                throw new CliException("--base-method " + baseMethod + " adds adapter layers; name a method that "
                        + "leaves the encoder plain");
            }
            if (model.adapted().layers().isEmpty()) {
                throw new CliException("method " + method + " adds no adapter layers to merge");
            }
            out.printf(Locale.ROOT, "[predict-benchmark] %d reviews, batch %d, %d rounds after a warm-up round: base "
                    + "(%s), %s unmerged, %s merged, in turn%n", texts, batchSize, rounds, plain.name(), method, method);
            double[][] seconds = new double[3][rounds];
            for (int r = -1; r < rounds; r++) {
                double b = time(() -> base.predictLogits(reviews, batchSize));
                double u = time(() -> model.predictLogits(reviews, batchSize));
                model.adapted().merge();
                double m;
                try {
                    m = time(() -> model.predictLogits(reviews, batchSize));
                } finally {
                    model.adapted().unmerge();
                }
                if (r >= 0) {
                    seconds[0][r] = b;
                    seconds[1][r] = u;
                    seconds[2][r] = m;
                    out.printf(Locale.ROOT, "[predict-benchmark] round %d: base %.2f s, unmerged %.2f s, merged %.2f s%n",
                            r + 1, b, u, m);
                }
            }
            double[] mergedOverBase = new double[rounds];
            double[] unmergedOverBase = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                mergedOverBase[r] = seconds[0][r] / seconds[2][r];
                unmergedOverBase[r] = seconds[0][r] / seconds[1][r];
            }
            out.printf(Locale.ROOT, "%nall-MiniLM-L6-v2, %d IMDB reviews (seed %d), 128 tokens, batch %d, %d rounds after "
                    + "one warm-up round, the three configurations in turn in each round%n%n", texts, seed, batchSize,
                    rounds);
            out.println("| configuration | median reviews/s | range over rounds (reviews/s) | speed ÷ base's, median of "
                    + "per-round ratios (min–max) |");
            out.println("|---|---|---|---|");
            String[] names = {"base (" + plain.name() + ", no adapter layers)", method + " unmerged", method + " merged"};
            double[][] ratios = {null, unmergedOverBase, mergedOverBase};
            for (int c = 0; c < 3; c++) {
                double[] rates = Arrays.stream(seconds[c]).map(s -> texts / s).sorted().toArray();
                String ratio = ratios[c] == null ? "1 (reference)" : String.format(Locale.ROOT, "%.3f (%.3f–%.3f)",
                        median(ratios[c]), Arrays.stream(ratios[c]).min().orElse(Double.NaN),
                        Arrays.stream(ratios[c]).max().orElse(Double.NaN));
                out.printf(Locale.ROOT, "| %s | %.1f | %.1f–%.1f | %s |%n", names[c], median(rates), rates[0],
                        rates[rates.length - 1], ratio);
            }
        }
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static TextModel create(Backbone backbone, AdapterMethod method, long seed) throws IOException {
        return TextModel.create(backbone, method, TaskKind.SINGLE_LABEL, 2, 128, new SplittableRandom(seed));
    }
}
