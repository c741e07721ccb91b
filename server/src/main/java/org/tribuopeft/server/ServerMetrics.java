package org.tribuopeft.server;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The server's counters, gauges and histograms, written in the Prometheus text exposition format (version 0.0.4)
 * for {@code GET /metrics}: requests by route and status, request latency, batch sizes, adapter-cache hits, misses,
 * loads and evictions, resident adapters and their bytes, queue depth. Thread-safe.
 */
public final class ServerMetrics {
    private static final double[] LATENCY_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    private static final double[] ROW_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();
    private final Histogram batchRows = new Histogram(ROW_BUCKETS);
    private final Histogram batchTokens = new Histogram(new double[] {64, 128, 256, 512, 1024, 2048, 4096, 8192});
    private final Histogram batchAdapters = new Histogram(ROW_BUCKETS);
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong loads = new AtomicLong();
    private final AtomicLong loadFailures = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong rejectedFull = new AtomicLong();
    private volatile LongSupplier residentAdapters = () -> 0;
    private volatile LongSupplier residentBytes = () -> 0;
    private volatile LongSupplier queueDepth = () -> 0;

    /** Counts one answered request and its latency in seconds. */
    public void request(String route, int status, double seconds) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new AtomicLong()).incrementAndGet();
        latency.computeIfAbsent(route, k -> new Histogram(LATENCY_BUCKETS)).observe(seconds);
    }

    /** Records one forward batch: its rows (texts), tokens and distinct adapters. */
    public void batch(int rows, int tokens, int adapters) {
        batchRows.observe(rows);
        batchTokens.observe(tokens);
        batchAdapters.observe(adapters);
    }

    /** A request found its adapter resident. */
    public void cacheHit() {
        hits.incrementAndGet();
    }

    /** A request had to wait for (or start) a load. */
    public void cacheMiss() {
        misses.incrementAndGet();
    }

    /** An adapter finished loading. */
    public void loaded() {
        loads.incrementAndGet();
    }

    /** An adapter failed to load. */
    public void loadFailed() {
        loadFailures.incrementAndGet();
    }

    /** An adapter left the cache to make room. */
    public void evicted() {
        evictions.incrementAndGet();
    }

    /** A request was turned away because the queue was full. */
    public void rejectedQueueFull() {
        rejectedFull.incrementAndGet();
    }

    /** Cache hits so far. */
    public long cacheHits() {
        return hits.get();
    }

    /** Completed loads so far. */
    public long loads() {
        return loads.get();
    }

    /** Evictions so far. */
    public long evictions() {
        return evictions.get();
    }

    /** Batches run so far. */
    public long batches() {
        return batchRows.count();
    }

    /** Sum of the rows of every batch so far. */
    public double batchedRows() {
        return batchRows.sum();
    }

    /** Where the gauges read from. */
    void gauges(LongSupplier residentAdapters, LongSupplier residentBytes, LongSupplier queueDepth) {
        this.residentAdapters = residentAdapters;
        this.residentBytes = residentBytes;
        this.queueDepth = queueDepth;
    }

    /** Everything in the Prometheus text format. */
    public String prometheusText() {
        StringBuilder sb = new StringBuilder();
        header(sb, "tribuo_peft_requests_total", "counter", "HTTP requests answered, by route and status code.");
        new TreeMap<>(requests).forEach((k, v) -> {
            String[] p = k.split("\u0000");
            sb.append("tribuo_peft_requests_total{route=\"").append(escape(p[0])).append("\",code=\"").append(p[1])
                    .append("\"} ").append(v.get()).append('\n');
        });
        header(sb, "tribuo_peft_request_duration_seconds", "histogram", "Time from request to response, seconds.");
        new TreeMap<>(latency).forEach((route, h) -> h.write(sb, "tribuo_peft_request_duration_seconds",
                "route=\"" + escape(route) + "\""));
        header(sb, "tribuo_peft_batch_rows", "histogram", "Texts per forward batch.");
        batchRows.write(sb, "tribuo_peft_batch_rows", "");
        header(sb, "tribuo_peft_batch_tokens", "histogram", "Tokens (before padding) per forward batch.");
        batchTokens.write(sb, "tribuo_peft_batch_tokens", "");
        header(sb, "tribuo_peft_batch_adapters", "histogram", "Distinct adapters per forward batch.");
        batchAdapters.write(sb, "tribuo_peft_batch_adapters", "");
        counter(sb, "tribuo_peft_adapter_cache_hits_total", "Requests whose adapter was resident.", hits.get());
        counter(sb, "tribuo_peft_adapter_cache_misses_total", "Requests that waited for their adapter to load.",
                misses.get());
        counter(sb, "tribuo_peft_adapter_loads_total", "Adapters loaded.", loads.get());
        counter(sb, "tribuo_peft_adapter_load_failures_total", "Adapter loads that failed.", loadFailures.get());
        counter(sb, "tribuo_peft_adapter_evictions_total", "Adapters evicted from the cache.", evictions.get());
        counter(sb, "tribuo_peft_rejected_queue_full_total", "Requests answered 503 because the queue was full.",
                rejectedFull.get());
        gauge(sb, "tribuo_peft_resident_adapters", "Adapters in the cache.", residentAdapters.getAsLong());
        gauge(sb, "tribuo_peft_resident_adapter_bytes", "Bytes of the adapters in the cache.", residentBytes.getAsLong());
        gauge(sb, "tribuo_peft_queue_depth", "Requests waiting for a batch.", queueDepth.getAsLong());
        return sb.toString();
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        header(sb, name, "counter", help);
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        header(sb, name, "gauge", help);
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** A cumulative histogram with fixed upper bounds. */
    private static final class Histogram {
        private final double[] bounds;
        private final long[] counts;
        private long count;
        private double sum;

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new long[bounds.length];
        }

        synchronized void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i]++;
                }
            }
            count++;
            sum += v;
        }

        synchronized long count() {
            return count;
        }

        synchronized double sum() {
            return sum;
        }

        synchronized void write(StringBuilder sb, String name, String labels) {
            String sep = labels.isEmpty() ? "" : labels + ",";
            for (int i = 0; i < bounds.length; i++) {
                sb.append(name).append("_bucket{").append(sep).append("le=\"").append(number(bounds[i])).append("\"} ")
                        .append(counts[i]).append('\n');
            }
            sb.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(count).append('\n');
            String braces = labels.isEmpty() ? "" : "{" + labels + "}";
            sb.append(name).append("_sum").append(braces).append(' ').append(number(sum)).append('\n');
            sb.append(name).append("_count").append(braces).append(' ').append(count).append('\n');
        }

        private static String number(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
        }
    }
}
