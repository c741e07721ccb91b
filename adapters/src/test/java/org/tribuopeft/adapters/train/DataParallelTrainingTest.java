package org.tribuopeft.adapters.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.checkpoint.CheckpointSettings;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.InProcessReplicas;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two replicas on two threads, each holding only its shard and summing gradients through an in-process
 * all-gather, train the same weights as one process playing both replicas (bit for bit), and the same weights as
 * one process computing each global batch whole, up to float rounding.
 */
class DataParallelTrainingTest {
    /** Unequal shards, so the smaller one runs out first: steps of 8 = 4 + 4 rows, the last step 4 + 1. */
    static final int[] SHARDS = {24, 21};
    static final List<LabelledText> DATA = SyntheticTexts.twoClass(45, 11);
    static final TrainingConfig CONFIG = new TrainingConfig(2, 8, 5e-3, 0.01, 0.1, 1.0, 0, 16, 7);

    static TextModel model(AdapterMethod method) throws Exception {
        return model(method, TinyBert.backbone(5));
    }

    static TextModel model(AdapterMethod method, Backbone backbone) throws Exception {
        return TextModel.create(backbone, method, TaskKind.SINGLE_LABEL, 2, 16, new SplittableRandom(3));
    }

    /**
     * {@code base} with its hidden and attention dropout off: dropout masks are drawn per forward pass, so only
     * without them do a global batch computed whole and the same batch computed shard by shard see the same network.
     */
    static Backbone withoutDropout(Backbone base, Path dir) throws Exception {
        BertConfig c = base.config();
        BertConfig off = new BertConfig(c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.intermediateSize(), c.maxPositions(), c.typeVocabSize(), c.layerNormEps(), c.hiddenAct(), 0, 0);
        Backbone.writeHfFolder(dir, new BertWeights(off, base.weights().tensors(), "no-dropout copy"),
                base.tokenizerJson());
        return Backbone.fromHfFolder(dir, base.pooling());
    }

    static List<LabelledText> shard(int rank) {
        int from = rank == 0 ? 0 : SHARDS[0];
        return DATA.subList(from, from + SHARDS[rank]);
    }

    /** What one process playing every replica (or computing whole batches) learns. */
    static Map<String, HostTensor> oneProcess(AdapterMethod method, DataParallel layout) throws Exception {
        return oneProcess(method, TinyBert.backbone(5), layout);
    }

    static Map<String, HostTensor> oneProcess(AdapterMethod method, Backbone backbone, DataParallel layout)
            throws Exception {
        return oneProcess(method, backbone, layout, CONFIG);
    }

    static Map<String, HostTensor> oneProcess(AdapterMethod method, Backbone backbone, DataParallel layout,
                                              TrainingConfig config) throws Exception {
        try (TextModel m = model(method, backbone)) {
            new FineTuner(config, ProgressListener.NONE).withDataParallel(layout).fit(m, DATA, List.of());
            return m.snapshot().values();
        }
    }

    /** What each of two replicas on two threads learns, by rank. */
    static List<Map<String, HostTensor>> twoReplicas(AdapterMethod method, CheckpointSettings checkpoints)
            throws Exception {
        return twoReplicas(method, checkpoints, CONFIG);
    }

    static List<Map<String, HostTensor>> twoReplicas(AdapterMethod method, CheckpointSettings checkpoints,
                                                     TrainingConfig config) throws Exception {
        InProcessReplicas group = new InProcessReplicas(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Map<String, HostTensor>>> runs = new ArrayList<>();
            for (int rank = 0; rank < 2; rank++) {
                int r = rank;
                runs.add(pool.submit(() -> {
                    try (TextModel m = model(method)) {
                        new FineTuner(config, ProgressListener.NONE).withCheckpoints(checkpoints)
                                .withDataParallel(DataParallel.replica(r, SHARDS, group.member(r)))
                                .fit(m, shard(r), List.of());
                        return m.snapshot().values();
                    }
                }));
            }
            List<Map<String, HostTensor>> out = new ArrayList<>();
            for (Future<Map<String, HostTensor>> f : runs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static double maxDiff(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        assertEquals(a.keySet(), b.keySet());
        double max = 0;
        for (String k : a.keySet()) {
            max = Math.max(max, a.get(k).maxAbsDiff(b.get(k)));
        }
        return max;
    }

    static boolean bitIdentical(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> a.get(k).bitEquals(b.get(k)));
    }

    @Test
    void everyRegisteredMethodTrainsTheSameWeightsOnTwoReplicasAsItsOneProcessReplay() throws Exception {
        TrainingConfig oneEpoch = new TrainingConfig(1, 8, 5e-3, 0.01, 0.1, 1.0, 0, 16, 7);
        int steps = DataParallel.simulated(SHARDS).stepsPerEpoch(oneEpoch.batchSize());
        for (MethodDescriptor d : MethodRegistry.all()) {
            AdapterMethod method = d.benchmarkSettings(steps);
            List<Map<String, HostTensor>> replicas = twoReplicas(method, CheckpointSettings.OFF, oneEpoch);
            Map<String, HostTensor> replay = oneProcess(method, TinyBert.backbone(5), DataParallel.simulated(SHARDS),
                    oneEpoch);
            Map<String, HostTensor> init;
            try (TextModel m = model(method)) {
                init = m.snapshot().values();
            }
            assertTrue(bitIdentical(replicas.get(0), replicas.get(1)), d.name() + ": replicas disagree by "
                    + maxDiff(replicas.get(0), replicas.get(1)));
            assertTrue(bitIdentical(replicas.get(0), replay), d.name() + ": replay differs by "
                    + maxDiff(replicas.get(0), replay));
            assertTrue(maxDiff(init, replay) > 0, d.name() + " did not train");
        }
    }

    @Test
    void summedShardGradientsEqualTheWholeGlobalBatchGradientUpToFloatRounding(@TempDir Path dir) throws Exception {
        AdapterMethod lora = new LoraConfig(4, 8, 0.0, List.of("query", "value"));
        try (TextModel m = model(lora, withoutDropout(TinyBert.backbone(5), dir))) {
            // one step of training first, so that lora_B is not zero and lora_A has gradients too
            new FineTuner(new TrainingConfig(1, 45, 5e-3, 0.01, 0.0, 1.0, 0, 16, 7), ProgressListener.NONE).fit(m,
                    DATA, List.of());
            var tokens = m.tokenizer().encode(DATA.stream().map(LabelledText::text).toList());
            float[][] targets = DATA.stream().map(LabelledText::target).toArray(float[][]::new);
            for (int b = 0; b < 6; b++) {
                int batch = b;
                ShardPlan sharded = new ShardPlan(DataParallel.simulated(SHARDS), 8, new SplittableRandom(1));
                ShardPlan whole = new ShardPlan(DataParallel.wholeBatches(SHARDS), 8, new SplittableRandom(1));
                int[][] orders = sharded.nextEpochOrders();
                whole.nextEpochOrders();
                float[] a = EngineLock.call(() -> ShardGradients.local(m, m.manager(), tokens, targets,
                        sharded.parts(orders, batch), m.adapted().hook(), 1, 0, ComputePrecision.FLOAT32));
                float[] c = EngineLock.call(() -> ShardGradients.local(m, m.manager(), tokens, targets,
                        whole.parts(orders, batch), m.adapted().hook(), 1, 0, ComputePrecision.FLOAT32));
                double maxDiff = 0;
                double maxAbs = 0;
                for (int i = 0; i < a.length - 1; i++) { // the last slot is the loss
                    maxDiff = Math.max(maxDiff, Math.abs(a[i] - c[i]));
                    maxAbs = Math.max(maxAbs, Math.abs(c[i]));
                }
                System.out.println("batch " + b + ": max |sharded - whole| = " + maxDiff + " of max |g| " + maxAbs);
                assertTrue(maxAbs > 0);
                // float32 sums in another order: a few units in the last place of the largest gradient
                assertTrue(maxDiff <= 1e-5 * maxAbs, "batch " + b + ": " + maxDiff + " vs " + maxAbs);
                assertEquals(c[c.length - 1], a[a.length - 1], 1e-6, "the loss of batch " + b);
            }
        }
    }

    @Test
    void shardedGradientsMatchWholeGlobalBatchesUpToFloatRounding(@TempDir Path dir) throws Exception {
        AdapterMethod lora = new LoraConfig(4, 8, 0.0, List.of("query", "value"));
        Backbone quiet = withoutDropout(TinyBert.backbone(5), dir);
        Map<String, HostTensor> sharded = oneProcess(lora, quiet, DataParallel.simulated(SHARDS));
        Map<String, HostTensor> whole = oneProcess(lora, quiet, DataParallel.wholeBatches(SHARDS));
        double diff = maxDiff(sharded, whole);
        System.out.println("sharded vs whole-batch LoRA, 12 steps: max |diff| = " + diff);
        // float32 sums in another order, carried through 12 AdamW steps of lr 5e-3: far below one step's size
        assertTrue(diff < 1e-5, "max |diff| " + diff);
        try (TextModel m = model(lora, quiet)) {
            assertTrue(maxDiff(m.snapshot().values(), whole) > 1e-3, "the run must move the weights by more than "
                    + "the tolerance for the comparison to mean anything");
        }
    }

    @Test
    void onlyRankZeroWritesCheckpointsAndTheyResumeTheOneProcessReplay(@TempDir Path dir) throws Exception {
        AdapterMethod lora = new LoraConfig(4, 8, 0.1, List.of("query", "value"));
        List<Map<String, HostTensor>> replicas = twoReplicas(lora, CheckpointSettings.in(dir, 4, 10));
        assertEquals(List.of("checkpoint-12", "checkpoint-4", "checkpoint-6", "checkpoint-8"),
                java.nio.file.Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList());
        // without the final checkpoint, a one-process replay of the same layout resumes the replicas' checkpoint of
        // step 8 and ends where they did
        org.tribuopeft.adapters.io.AtomicFiles.deleteRecursively(dir.resolve("checkpoint-12"));
        java.io.ByteArrayOutputStream notices = new java.io.ByteArrayOutputStream();
        try (TextModel m = model(lora)) {
            TrainingReport r = new FineTuner(CONFIG, ProgressListener.NONE).withNotices(new java.io.PrintStream(notices,
                    true, java.nio.charset.StandardCharsets.UTF_8)).withDataParallel(DataParallel.simulated(SHARDS))
                    .resumingFrom(dir).fit(m, DATA, List.of());
            assertTrue(notices.toString(java.nio.charset.StandardCharsets.UTF_8).contains("after step 8 of epoch 2"),
                    notices.toString(java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(12, r.stepsRun());
            assertTrue(bitIdentical(replicas.get(0), m.snapshot().values()));
        }
    }

    @Test
    void aGlobalBatchThatIsNotAMultipleOfTheWorkersIsRefusedNamingBoth() throws Exception {
        TrainingConfig odd = new TrainingConfig(1, 7, 5e-3, 0.01, 0.1, 1.0, 0, 16, 7);
        try (TextModel m = model(new LoraConfig())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FineTuner(odd,
                    ProgressListener.NONE).withDataParallel(DataParallel.simulated(SHARDS)).fit(m, DATA, List.of()));
            assertTrue(e.getMessage().contains("batchSize 7") && e.getMessage().contains("2 workers"), e.getMessage());
        }
    }

    @Test
    void aShardOfAnotherSizeThanTheLayoutIsRefusedBeforeTraining() throws Exception {
        try (TextModel m = model(new LoraConfig())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FineTuner(CONFIG,
                    ProgressListener.NONE).withDataParallel(DataParallel.simulated(SHARDS))
                    .fit(m, DATA.subList(0, 40), List.of()));
            assertTrue(e.getMessage().contains("should hold 45 examples") && e.getMessage().contains("40 were given"),
                    e.getMessage());
        }
    }
}
