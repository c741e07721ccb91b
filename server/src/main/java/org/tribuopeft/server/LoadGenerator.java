package org.tribuopeft.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded load generator for the adapter server, loopback only: it starts servers in this process on
 * 127.0.0.1, sends a fixed number of prediction requests (one short IMDB review each) from a fixed number of
 * closed-loop clients, stops at the request count or the time limit, and reports throughput and p50/p95/p99
 * latency for each number of distinct adapters, traffic shape (uniform, or Zipf with exponent 1) and batching
 * (mixed, per adapter, and one merged adapter, whose forward pass is the bare base's). Adapters are loaded before
 * the clock starts. Writes a Markdown table and a PNG chart.
 *
 * <pre>
 * java -Djava.awt.headless=true -cp ... org.tribuopeft.server.LoadGenerator --base all-minilm-l6-v2 \
 *     --work target/loadgen --adapters 1,8,64,256 --requests 256 --rounds 4 --concurrency 32 --time-limit-s 120 \
 *     --chart docs/adapter-server-throughput.png --table target/loadgen/results.md
 * </pre>
 */
public final class LoadGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One measured run.
     *
     * @param batching how batches were run
     * @param adapters distinct adapters in the traffic
     * @param traffic uniform or zipf
     * @param sent requests sent
     * @param failed requests not answered 200
     * @param seconds wall time of the run
     * @param p50 median latency, milliseconds
     * @param p95 95th percentile latency, milliseconds
     * @param p99 99th percentile latency, milliseconds
     * @param meanBatchRows mean texts per forward batch
     * @param loadAverage the machine's one-minute load average when the run ended (other processes included)
     */
    public record Result(Batching batching, int adapters, String traffic, int sent, int failed, double seconds,
                         double p50, double p95, double p99, double meanBatchRows, double loadAverage) {
        /** Answered requests per second. */
        public double throughput() {
            return (sent - failed) / seconds;
        }
    }

    private LoadGenerator() {}

    /** Runs the sweep; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args);
        // PyTorch intra-op threads (0 = one per core); on a machine shared with other busy processes one thread avoids
        // OpenMP workers waiting on each other for a time slice at every small operation
        org.tribuopeft.adapters.engine.TorchRuntime.configure(Integer.parseInt(o.getOrDefault("threads", "0")));
        String base = o.getOrDefault("base", "all-minilm-l6-v2");
        Path work = Paths.get(o.getOrDefault("work", "target/loadgen"));
        List<Integer> counts = Arrays.stream(o.getOrDefault("adapters", "1,8,64,256").split(",")).map(Integer::parseInt)
                .toList();
        List<String> traffics = List.of(o.getOrDefault("traffic", "uniform,zipf").split(","));
        List<Batching> modes = Arrays.stream(o.getOrDefault("modes", "merged,mixed,per-adapter").split(","))
                .map(s -> Batching.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'))).toList();
        int requests = Integer.parseInt(o.getOrDefault("requests", "384"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "32"));
        int timeLimit = Integer.parseInt(o.getOrDefault("time-limit-s", "90"));
        int words = Integer.parseInt(o.getOrDefault("words", "16"));
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "4"));
        long seed = Long.parseLong(o.getOrDefault("seed", "7"));
        String method = o.getOrDefault("method", "lora");
        int maxAdapters = counts.stream().mapToInt(Integer::intValue).max().orElse(1);

        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), seed);
        List<String> texts = new ArrayList<>();
        for (ImdbReviews.Review r : reviews.subList(0, 512)) {
            String[] w = r.text().replace("<br />", " ").split("\\s+");
            texts.add(String.join(" ", Arrays.copyOf(w, Math.min(words, w.length))));
        }
        List<String> ids = BenchmarkAdapters.prepare(work.resolve("adapters"), base, method, maxAdapters, reviews, 64,
                seed);
        System.out.printf(Locale.ROOT, "%d %s adapters on %s; %d requests of one %d-word text each, %d clients, "
                + "limit %d s per run; %d cores%n", maxAdapters, method, base, requests, words, concurrency, timeLimit,
                Runtime.getRuntime().availableProcessors());

        List<Result> results = new ArrayList<>();
        // the machine is shared, and its load drifts: the modes compared at one adapter count run side by side, in
        // alternating rounds of requests/rounds requests each, so each mode sees the same background load
        for (int n : counts) {
            List<String> mine = ids.subList(0, n);
            Map<Batching, AdapterServer> servers = new LinkedHashMap<>();
            try {
                for (Batching mode : modes) {
                    if (mode == Batching.MERGED && n != 1) {
                        continue;
                    }
                    AdapterServer server = AdapterServer.start(ServerSettings.defaults(base,
                            List.of(work.resolve("adapters"))).withPort(0).withBatching(mode).withCacheBytes(64L << 30)
                            .withRequestLimits(Math.max(256, concurrency * 2), 64, 1 << 20));
                    servers.put(mode, server);
                    for (String id : mine) {
                        server.cache().load(id);
                    }
                }
                // with one adapter, Zipf traffic is uniform traffic
                for (String traffic : n == 1 ? List.of("uniform") : traffics) {
                    Map<Batching, List<Run>> runs = new LinkedHashMap<>();
                    for (Map.Entry<Batching, AdapterServer> e : servers.entrySet()) {
                        // warm-up (not measured): JIT, allocator and the first batches
                        drive(e.getValue(), mine, traffic, concurrency * 2, concurrency, 60, texts, seed + 1);
                        runs.put(e.getKey(), new ArrayList<>());
                    }
                    for (int round = 0; round < rounds; round++) {
                        for (Map.Entry<Batching, AdapterServer> e : servers.entrySet()) {
                            runs.get(e.getKey()).add(drive(e.getValue(), mine, traffic, requests / rounds, concurrency,
                                    timeLimit / rounds, texts, seed + 100L * round));
                        }
                    }
                    for (Map.Entry<Batching, List<Run>> e : runs.entrySet()) {
                        Result r = combine(e.getKey(), n, traffic, e.getValue());
                        results.add(r);
                        System.out.println(line(r));
                    }
                }
            } finally {
                servers.values().forEach(AdapterServer::close);
            }
        }
        String table = table(results, base, method, requests, words, concurrency, rounds);
        System.out.println(table);
        if (o.containsKey("table")) {
            Path t = Paths.get(o.get("table"));
            Files.createDirectories(t.toAbsolutePath().getParent());
            Files.writeString(t, table);
        }
        if (o.containsKey("chart")) {
            LoadChart.write(results, Paths.get(o.get("chart")));
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }

    /**
     * One round of requests: latencies of the answered ones (milliseconds), failures, wall time and batch sizes.
     *
     * @param latencies milliseconds of every request sent
     * @param failed requests not answered 200
     * @param seconds wall time of the round
     * @param batches forward batches run
     * @param rows texts in those batches
     */
    record Run(double[] latencies, int failed, double seconds, long batches, double rows) {}

    /** Sends {@code requests} requests from {@code concurrency} closed-loop clients and measures them. */
    static Run drive(AdapterServer server, List<String> ids, String traffic, int requests, int concurrency,
                     int timeLimitSeconds, List<String> texts, long seed) throws Exception {
        if (!server.url().startsWith("http://127.0.0.1:")) {
            throw new IllegalArgumentException("the load generator only drives loopback servers, not " + server.url());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] cumulative = weights(ids.size(), traffic);
        String[] bodies = new String[requests];
        for (int i = 0; i < requests; i++) {
            ObjectNode n = JSON.createObjectNode();
            n.put("adapter", ids.get(pick(cumulative, rng.nextDouble())));
            n.putArray("texts").add(texts.get(rng.nextInt(texts.size())));
            bodies[i] = n.toString();
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        URI uri = URI.create(server.url() + "/v1/predict");
        double[] latency = new double[requests];
        boolean[] ok = new boolean[requests];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        long batchesBefore = server.metrics().batches();
        double rowsBefore = server.metrics().batchedRows();
        long start = System.nanoTime();
        long deadline = start + timeLimitSeconds * 1_000_000_000L;
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < concurrency; c++) {
            Thread t = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < requests && System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(bodies[i])).build(),
                                HttpResponse.BodyHandlers.ofString());
                        ok[i] = r.statusCode() == 200;
                    } catch (Exception e) {
                        ok[i] = false;
                    }
                    latency[i] = (System.nanoTime() - t0) / 1e6;
                    sent.incrementAndGet();
                }
            });
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int n = sent.get();
        double[] done = new double[n];
        int failed = 0;
        int k = 0;
        for (int i = 0; i < requests && k < n; i++) {
            if (latency[i] > 0) {
                done[k++] = latency[i];
                failed += ok[i] ? 0 : 1;
            }
        }
        long batches = server.metrics().batches() - batchesBefore;
        double rows = server.metrics().batchedRows() - rowsBefore;
        return new Run(Arrays.copyOf(done, k), failed, seconds, batches, rows);
    }

    /** The rounds of one mode as one result: summed requests and time, pooled latencies. */
    static Result combine(Batching mode, int adapters, String traffic, List<Run> runs) {
        double seconds = 0;
        int failed = 0;
        long batches = 0;
        double rows = 0;
        List<Double> all = new ArrayList<>();
        for (Run r : runs) {
            seconds += r.seconds();
            failed += r.failed();
            batches += r.batches();
            rows += r.rows();
            for (double l : r.latencies()) {
                all.add(l);
            }
        }
        double[] sorted = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Result(mode, adapters, traffic, sorted.length, failed, seconds, percentile(sorted, sorted.length, 0.50),
                percentile(sorted, sorted.length, 0.95), percentile(sorted, sorted.length, 0.99),
                batches == 0 ? 0 : rows / batches,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** Cumulative probabilities over adapters: equal, or Zipf with exponent 1 (adapter i drawn ∝ 1/(i+1)). */
    static double[] weights(int n, String traffic) {
        double[] w = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            w[i] = switch (traffic) {
                case "uniform" -> 1.0;
                case "zipf" -> 1.0 / (i + 1);
                default -> throw new IllegalArgumentException("traffic must be uniform or zipf, got '" + traffic + "'");
            };
            total += w[i];
        }
        double acc = 0;
        for (int i = 0; i < n; i++) {
            acc += w[i] / total;
            w[i] = acc;
        }
        w[n - 1] = 1.0;
        return w;
    }

    private static int pick(double[] cumulative, double u) {
        int i = Arrays.binarySearch(cumulative, u);
        return Math.min(cumulative.length - 1, i >= 0 ? i : -i - 1);
    }

    private static double percentile(double[] sorted, int n, double q) {
        if (n == 0) {
            return Double.NaN;
        }
        int idx = (int) Math.ceil(q * n) - 1;
        return sorted[Math.max(0, Math.min(n - 1, idx))];
    }

    private static String label(Batching b) {
        return b.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static String line(Result r) {
        return String.format(Locale.ROOT, "%-11s %4d adapters %-7s %4d sent %3d failed %6.1f s %7.1f req/s "
                        + "p50 %7.1f ms p95 %7.1f ms p99 %7.1f ms, %.1f texts/batch, load %.1f", label(r.batching()),
                r.adapters(), r.traffic(), r.sent(), r.failed(), r.seconds(), r.throughput(), r.p50(), r.p95(), r.p99(),
                r.meanBatchRows(), r.loadAverage());
    }

    /** The results as a Markdown table, with the two ratios the targets are stated in. */
    static String table(List<Result> results, String base, String method, int requests, int words, int concurrency,
                        int rounds) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s adapters (%s), %d requests of one %d-word IMDB text per mode and "
                + "traffic in %d alternating rounds, %d concurrent clients%n%n", method, base, requests, words, rounds,
                concurrency));
        sb.append("| batching | adapters | traffic | answered | req/s | p50 ms | p95 ms | p99 ms | texts/batch | load |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %d/%d | %.1f | %.0f | %.0f | %.0f | %.1f | %.1f |%n",
                    label(r.batching()), r.adapters(), r.traffic(), r.sent() - r.failed(), r.sent(), r.throughput(),
                    r.p50(), r.p95(), r.p99(), r.meanBatchRows(), r.loadAverage()));
        }
        Result merged = find(results, Batching.MERGED, 1, "uniform");
        Result one = find(results, Batching.MIXED, 1, "uniform");
        if (merged != null && one != null) {
            sb.append(String.format(Locale.ROOT, "%nOne unmerged adapter (mixed, 1 adapter) vs one merged adapter "
                    + "(the bare base's forward pass): %.2f× the throughput%n", one.throughput() / merged.throughput()));
        }
        for (String traffic : List.of("uniform", "zipf")) {
            Result many = find(results, Batching.MIXED, 64, traffic);
            Result per = find(results, Batching.PER_ADAPTER, 64, traffic);
            if (many != null && one != null) {
                sb.append(String.format(Locale.ROOT, "64 adapters, %s, mixed: %.2f× the single-adapter throughput%s%n",
                        traffic, many.throughput() / one.throughput(), per == null ? ""
                                : String.format(Locale.ROOT, " (per-adapter batching: %.2f×)",
                                per.throughput() / one.throughput())));
            }
        }
        return sb.toString();
    }

    static Result find(List<Result> results, Batching b, int adapters, String traffic) {
        return results.stream().filter(r -> r.batching() == b && r.adapters() == adapters && r.traffic().equals(traffic))
                .findFirst().orElse(null);
    }
}
