package org.tribuopeft.server;

import org.tribuopeft.plugin.AdapterDirectory;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;
import org.tribuopeft.adapters.mixed.SharedBase;
import org.tribuopeft.plugin.BackboneReference;
import org.tribuopeft.plugin.BackboneSpec;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The forward pass alone, without HTTP or the scheduler: one fixed batch of texts predicted by one merged adapter
 * (the bare base's cost), by 1, 8 or all-distinct adapters in one mixed pass, and by the same adapters one pass per
 * adapter. The configurations take turns in every trial, so load from other processes falls on all of them alike;
 * the median of the trials is reported. Uses the load generator's prepared adapters.
 *
 * <pre>
 * java -cp ... org.tribuopeft.server.ForwardPassBenchmark --work target/loadgen --rows 32 --trials 15
 * </pre>
 */
public final class ForwardPassBenchmark {
    private ForwardPassBenchmark() {}

    /** Runs the benchmark and prints a Markdown table. */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        // PyTorch intra-op threads (0 = one per core); on a machine shared with other busy processes one thread avoids
        // OpenMP workers waiting on each other for a time slice at every small operation
        org.tribuopeft.adapters.engine.TorchRuntime.configure(Integer.parseInt(o.getOrDefault("threads", "0")));
        String base = o.getOrDefault("base", "all-minilm-l6-v2");
        Path work = Paths.get(o.getOrDefault("work", "target/loadgen"));
        int rows = Integer.parseInt(o.getOrDefault("rows", "32"));
        int trials = Integer.parseInt(o.getOrDefault("trials", "15"));
        int words = Integer.parseInt(o.getOrDefault("words", "16"));
        long seed = Long.parseLong(o.getOrDefault("seed", "7"));
        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), seed);
        List<String> texts = new ArrayList<>();
        for (ImdbReviews.Review r : reviews.subList(0, rows)) {
            String[] w = r.text().replace("<br />", " ").split("\\s+");
            texts.add(String.join(" ", Arrays.copyOf(w, Math.min(words, w.length))));
        }
        List<String> ids = BenchmarkAdapters.prepare(work.resolve("adapters"), base, o.getOrDefault("method", "lora"),
                Math.max(rows, 8), reviews, 64, seed);
        Backbone backbone = BackboneSpec.open(base, "", null);
        String sha = BackboneReference.of(backbone, BackboneSpec.tokenizerLocation(base, "")).weightsSha256();
        AdapterDirectory dir = new AdapterDirectory(List.of(work.resolve("adapters")));
        try (NoGradientScope noGrad = new NoGradientScope(); SharedBase shared = SharedBase.of(backbone)) {
            AdapterLoader loader = new AdapterLoader(shared, base, sha, Batching.MIXED);
            List<LoadedAdapter> adapters = new ArrayList<>();
            for (String id : ids.subList(0, rows)) {
                adapters.add(loader.load(dir.resolve(id).orElseThrow()));
            }
            LoadedAdapter merged = new AdapterLoader(shared, base, sha, Batching.MERGED)
                    .load(dir.resolve(ids.get(0)).orElseThrow());
            MixedBatchPredictor predictor = new MixedBatchPredictor(shared);
            Map<String, Runnable> configs = new LinkedHashMap<>();
            configs.put("merged, 1 adapter (bare-base forward)", () -> merged.model().predict(texts, rows));
            for (int k : new int[] {1, 8, rows}) {
                List<MixedBatchPredictor.Row> batch = new ArrayList<>();
                for (int i = 0; i < rows; i++) {
                    batch.add(new MixedBatchPredictor.Row(adapters.get(i % k).model(), texts.get(i)));
                }
                configs.put("mixed, " + k + " distinct", () -> predictor.predict(batch, MixedBatchPredictor.Batching.MIXED));
                if (k > 1) {
                    configs.put("per-adapter, " + k + " distinct",
                            () -> predictor.predict(batch, MixedBatchPredictor.Batching.PER_ADAPTER));
                }
            }
            System.out.println("adapters loaded; warming up");
            configs.values().forEach(Runnable::run); // warm-up
            Map<String, double[]> times = new LinkedHashMap<>();
            configs.keySet().forEach(k -> times.put(k, new double[trials]));
            List<String> order = new ArrayList<>(configs.keySet());
            for (int t = 0; t < trials; t++) {
                for (int c = 0; c < order.size(); c++) {
                    String name = order.get((c + t) % order.size()); // rotate who goes first
                    long t0 = System.nanoTime();
                    configs.get(name).run();
                    times.get(name)[t] = (System.nanoTime() - t0) / 1e6;
                }
                System.out.printf(Locale.ROOT, "trial %d of %d done%n", t + 1, trials);
            }
            double mergedMs = median(times.get(order.get(0)));
            double oneMs = median(times.get("mixed, 1 distinct"));
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%d texts of %d words per batch, %d trials, median; load average %.1f%n%n",
                    rows, words, trials,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
            sb.append("| batch | median ms | texts/s | vs merged | vs mixed, 1 adapter |\n|---|---:|---:|---:|---:|\n");
            for (String name : order) {
                double ms = median(times.get(name));
                sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.1f | %.2f× | %.2f× |%n", name, ms, rows * 1000 / ms,
                        mergedMs / ms, oneMs / ms));
            }
            System.out.print(sb);
            adapters.forEach(LoadedAdapter::evict);
            merged.evict();
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
