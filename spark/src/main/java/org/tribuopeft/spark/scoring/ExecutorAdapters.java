package org.tribuopeft.spark.scoring;

import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;
import org.tribuopeft.adapters.mixed.SharedBase;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.BackboneReference;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one executor JVM holds for scoring, shared by all its tasks: each pretrained base once, keyed by the SHA-256
 * of its weights and tokenizer, its pooling and its storage (float32 or quantized), and each adapter once, keyed by
 * its source and id. Loading happens one adapter at a time per JVM; forward passes on one base run one at a time
 * (PyTorch's own threads use the executor's cores).
 */
final class ExecutorAdapters {
    private static final Map<BaseKey, BaseSlot> BASES = new ConcurrentHashMap<>();
    private static final Map<AdapterKey, ScoringAdapter> ADAPTERS = new ConcurrentHashMap<>();
    private static final Object LOADING = new Object();
    private static final AtomicInteger BASE_LOADS = new AtomicInteger();

    private ExecutorAdapters() {}

    /** The identity of a base: what must agree for adapters to share it. */
    record BaseKey(String weightsSha256, String tokenizerSha256, String pooling, String storage) {
        static BaseKey of(AdapterModel<?> m) {
            BackboneReference r = m.backboneReference();
            return new BaseKey(r.weightsSha256(), r.tokenizerSha256(), r.pooling().name(),
                    m.quantization() == null ? "float32" : m.quantization().toString());
        }
    }

    private record AdapterKey(String source, String id) {}

    /** A base loaded in this JVM and the predictor that runs mixed batches on it; lock it to predict. */
    static final class BaseSlot {
        private final SharedBase base;
        private final MixedBatchPredictor predictor;

        private BaseSlot(SharedBase base) {
            this.base = base;
            this.predictor = new MixedBatchPredictor(base);
        }

        /** Predicts rows of adapters on this base in one mixed batch; one pass at a time. */
        synchronized float[][] predict(List<MixedBatchPredictor.Row> rows) {
            try (NoGradientScope noGrad = new NoGradientScope()) {
                return predictor.predict(rows, MixedBatchPredictor.Batching.MIXED);
            }
        }
    }

    /** How many bases this JVM has loaded so far (each base once per JVM; tests check it). */
    static int baseLoads() {
        return BASE_LOADS.get();
    }

    /**
     * The adapter {@code id} from {@code source}, loaded on first use.
     *
     * @return empty when the source has no such adapter
     * @throws AdapterScoringException when the adapter exists but cannot be read or cannot share a base
     * @throws IllegalArgumentException when the id is not a plain name
     */
    static Optional<ScoringAdapter> adapter(AdapterSource source, String id) {
        AdapterKey key = new AdapterKey(source.key(), id);
        ScoringAdapter hit = ADAPTERS.get(key);
        if (hit != null) {
            return Optional.of(hit);
        }
        synchronized (LOADING) {
            hit = ADAPTERS.get(key);
            if (hit != null) {
                return Optional.of(hit);
            }
            Optional<AdapterModel<?>> model;
            try {
                model = source.load(id);
            } catch (IOException e) {
                throw new AdapterScoringException("adapter '" + id + "' from " + source.describe() + " cannot be read: "
                        + e.getMessage(), e);
            }
            if (model.isEmpty()) {
                return Optional.empty();
            }
            ScoringAdapter loaded = build(id, model.get(), source);
            ADAPTERS.put(key, loaded);
            return Optional.of(loaded);
        }
    }

    private static ScoringAdapter build(String id, AdapterModel<?> am, AdapterSource source) {
        try {
            TextModel.baseChange(am.method()).ifPresent(why -> {
                throw new AdapterScoringException("adapter '" + id + "' from " + source.describe() + " cannot share "
                        + "its base with other adapters: its method " + why + "; score it with its own model instead");
            });
            BaseSlot slot = BASES.computeIfAbsent(BaseKey.of(am), k -> {
                SharedBase base = SharedBase.of(am.backboneReference().load(), am.quantization());
                BASE_LOADS.incrementAndGet();
                return new BaseSlot(base);
            });
            int width = am.outputNames().size();
            synchronized (slot) {
                // building and restoring copy into parameters in place, which autograd (on in new threads) refuses
                try (NoGradientScope noGrad = new NoGradientScope()) {
                    TextModel model = slot.base.adapterModel(am.method(), am.task(), width, am.maxLength(),
                            new SplittableRandom(0));
                    try {
                        model.restore(new TextModel.Snapshot(am.trainedTensors(), am.rankMasks()));
                    } catch (RuntimeException e) {
                        model.close();
                        throw e;
                    }
                    return new ScoringAdapter(id, model, slot, reader(am));
                }
            }
        } catch (AdapterScoringException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new AdapterScoringException("adapter '" + id + "' from " + source.describe() + " cannot be used: "
                    + e.getMessage(), e);
        } finally {
            am.close();
        }
    }

    private static <T extends org.tribuo.Output<T>> ScoringAdapter.OutputReader<T> reader(AdapterModel<T> am) {
        return ScoringAdapter.OutputReader.of(am);
    }
}
