package org.tribuopeft.server;

import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;
import org.tribuopeft.adapters.train.TextModel;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Collects prediction requests into batches and runs them on its one worker thread, the only thread that runs
 * forward passes (with autograd off): a batch starts with the oldest waiting request and takes more until it holds
 * {@code maxBatchTokens} tokens or {@code maxWaitMillis} have passed since that request arrived. Requests for
 * different adapters share the batch; {@link Batching} says whether they share one forward pass. The queue is
 * bounded: a full queue is a 503 with Retry-After, not a growing backlog.
 */
public final class BatchScheduler implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BatchScheduler.class.getName());

    /**
     * One request: its adapter (a reference held until the batch ends), its texts, and where its results go.
     *
     * @param adapter the adapter, retained by the caller for this job
     * @param texts the texts
     * @param result completed with one row of outputs per text
     */
    public record Job(LoadedAdapter adapter, List<String> texts, CompletableFuture<float[][]> result) {}

    private final BlockingQueue<Job> queue;
    private final MixedBatchPredictor predictor;
    private final Batching batching;
    private final int maxBatchTokens;
    private final long maxWaitNanos;
    private final ServerMetrics metrics;
    private final AdapterCache cache;
    private final Thread worker;
    private volatile boolean running = true;
    private volatile Job carried;

    /**
     * Starts the worker.
     *
     * @param predictor the mixed-batch predictor over the shared base
     * @param batching how a batch's adapters share forward passes
     * @param maxQueue requests that may wait
     * @param maxBatchTokens tokens (before padding) that end a batch
     * @param maxWaitMillis how long the oldest request waits for company, milliseconds
     * @param cache where each job's adapter reference is released
     * @param metrics where batch sizes are recorded
     */
    public BatchScheduler(MixedBatchPredictor predictor, Batching batching, int maxQueue, int maxBatchTokens,
                          long maxWaitMillis, AdapterCache cache, ServerMetrics metrics) {
        this.queue = new ArrayBlockingQueue<>(maxQueue);
        this.predictor = predictor;
        this.batching = batching;
        this.maxBatchTokens = maxBatchTokens;
        this.maxWaitNanos = TimeUnit.MILLISECONDS.toNanos(maxWaitMillis);
        this.cache = cache;
        this.metrics = metrics;
        this.worker = new Thread(this::loop, "tribuo-peft-batch-worker");
        this.worker.setDaemon(true);
        this.worker.start();
    }

    /**
     * Queues a job; on refusal the caller keeps its adapter reference.
     *
     * @throws HttpStatusException 503 with Retry-After when the queue is full or the scheduler stopped
     */
    public void submit(Job job) {
        if (!running) {
            throw new HttpStatusException(503, "the server is shutting down", 1);
        }
        if (!queue.offer(job)) {
            metrics.rejectedQueueFull();
            throw new HttpStatusException(503, "the request queue is full (" + (queue.size()) + " waiting); retry "
                    + "after the Retry-After seconds", 1);
        }
    }

    /** Requests waiting for a batch. */
    public int queueDepth() {
        return queue.size() + (carried == null ? 0 : 1);
    }

    private void loop() {
        try (NoGradientScope noGrad = new NoGradientScope()) {
            while (running) {
                List<Job> batch;
                try {
                    batch = nextBatch();
                } catch (InterruptedException e) {
                    break;
                }
                run(batch);
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "batch worker stopped", e);
        }
        failWaiting();
    }

    private List<Job> nextBatch() throws InterruptedException {
        Job first = carried != null ? carried : queue.take();
        carried = null;
        long deadline = System.nanoTime() + maxWaitNanos;
        List<Job> batch = new ArrayList<>();
        batch.add(first);
        int tokens = tokens(first);
        while (tokens < maxBatchTokens) {
            long left = deadline - System.nanoTime();
            Job next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
            if (next == null) {
                break;
            }
            int t = tokens(next);
            if (tokens + t > maxBatchTokens) {
                carried = next;
                break;
            }
            batch.add(next);
            tokens += t;
        }
        return batch;
    }

    private static int tokens(Job job) {
        int n = 0;
        for (String t : job.texts()) {
            n += job.adapter().model().tokenizer().countTokens(t);
        }
        return n;
    }

    private void run(List<Job> batch) {
        try {
            List<MixedBatchPredictor.Row> rows = new ArrayList<>();
            Map<LoadedAdapter, Boolean> adapters = new IdentityHashMap<>();
            int tokens = 0;
            for (Job j : batch) {
                adapters.put(j.adapter(), Boolean.TRUE);
                for (String t : j.texts()) {
                    rows.add(new MixedBatchPredictor.Row(j.adapter().model(), t));
                }
                tokens += tokens(j);
            }
            float[][] out = batching == Batching.MERGED ? ownModels(rows)
                    : predictor.predict(rows, batching == Batching.MIXED ? MixedBatchPredictor.Batching.MIXED
                            : MixedBatchPredictor.Batching.PER_ADAPTER);
            metrics.batch(rows.size(), tokens, adapters.size());
            int r = 0;
            for (Job j : batch) {
                float[][] mine = new float[j.texts().size()][];
                System.arraycopy(out, r, mine, 0, mine.length);
                r += mine.length;
                j.result().complete(mine);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a batch failed", e);
            batch.forEach(j -> j.result().completeExceptionally(e));
        } finally {
            batch.forEach(j -> cache.release(j.adapter()));
        }
    }

    /** Merged mode: each adapter's own (merged) model predicts its rows. */
    private static float[][] ownModels(List<MixedBatchPredictor.Row> rows) {
        Map<TextModel, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            groups.computeIfAbsent(rows.get(i).model(), k -> new ArrayList<>()).add(i);
        }
        float[][] out = new float[rows.size()][];
        groups.forEach((m, idx) -> {
            float[][] r = m.predict(idx.stream().map(i -> rows.get(i).text()).toList(), idx.size());
            for (int k = 0; k < r.length; k++) {
                out[idx.get(k)] = r[k];
            }
        });
        return out;
    }

    private void failWaiting() {
        List<Job> left = new ArrayList<>();
        if (carried != null) {
            left.add(carried);
            carried = null;
        }
        queue.drainTo(left);
        for (Job j : left) {
            j.result().completeExceptionally(new HttpStatusException(503, "the server is shutting down", 1));
            cache.release(j.adapter());
        }
    }

    /** Stops the worker after its current batch; waiting requests fail with 503. */
    @Override
    public void close() {
        running = false;
        worker.interrupt();
        try {
            worker.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
