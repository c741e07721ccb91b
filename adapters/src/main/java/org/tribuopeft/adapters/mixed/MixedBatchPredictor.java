package org.tribuopeft.adapters.mixed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.train.TextModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Predicts a batch whose texts are meant for different adapters sharing one pretrained base, in one forward pass
 * (the base matmuls over every row, each adapter's low-rank term over its own rows, each adapter's head over its
 * rows), or adapter by adapter for comparison. Adapters whose method refuses to mix
 * ({@link org.tribuopeft.adapters.method.MethodDescriptor#mixedBatchRefusal}) run as their own batch either way.
 * Results equal each adapter's own {@link TextModel#predict} up to float rounding. One pass at a time.
 */
public final class MixedBatchPredictor {
    /** How the rows of a batch are run. */
    public enum Batching {
        /** One forward pass for every row of every adapter that can mix. */
        MIXED,
        /** One forward pass per adapter (the baseline mixed batching is measured against). */
        PER_ADAPTER
    }

    /**
     * One text and the adapter model that should predict it.
     *
     * @param model an adapter model built on this predictor's base ({@link SharedBase#adapterModel})
     * @param text the input text
     */
    public record Row(TextModel model, String text) {}

    private final NDManager manager;
    private final MixedBatchEncoder encoder;
    private final NDArray baseIdentity;
    private final Pooling pooling;

    /** A predictor over a shared base; the adapter models of its rows are built with {@link SharedBase#adapterModel}. */
    public MixedBatchPredictor(SharedBase base) {
        this.manager = base.manager();
        this.encoder = new MixedBatchEncoder(base.encoder());
        this.baseIdentity = base.encoder().baseParameters().get("embeddings.word_embeddings.weight").getArray();
        this.pooling = base.backbone().pooling();
    }

    private static NDArray wordEmbeddings(TextModel m) {
        return m.adapted().encoder().baseParameters().get("embeddings.word_embeddings.weight").getArray();
    }

    /** Why rows for {@code model} cannot join a mixed pass (asked of its method's descriptor); empty when they can. */
    public static Optional<String> mixedBatchRefusal(TextModel model) {
        AdapterMethod m = model.adapted().method();
        return m.descriptor().mixedBatchRefusal(m);
    }

    /**
     * Predicts every row: the head's activated outputs (probabilities or values) per row, in row order.
     *
     * @throws IllegalArgumentException when a row's model is not built on this predictor's base, or is merged
     */
    public float[][] predict(List<Row> rows, Batching batching) {
        Map<TextModel, List<Integer>> groups = new LinkedHashMap<>();
        Map<TextModel, Boolean> checked = new IdentityHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            TextModel m = rows.get(i).model();
            checked.computeIfAbsent(m, this::check);
            groups.computeIfAbsent(m, k -> new ArrayList<>()).add(i);
        }
        float[][] out = new float[rows.size()][];
        try (NoGradientScope noGrad = new NoGradientScope()) {
            List<TextModel> mixing = new ArrayList<>();
            for (Map.Entry<TextModel, List<Integer>> g : groups.entrySet()) {
                if (batching == Batching.MIXED && mixedBatchRefusal(g.getKey()).isEmpty()) {
                    mixing.add(g.getKey());
                } else {
                    List<String> texts = g.getValue().stream().map(i -> rows.get(i).text()).toList();
                    float[][] r = g.getKey().predict(texts, Math.max(1, texts.size()));
                    for (int k = 0; k < r.length; k++) {
                        out[g.getValue().get(k)] = r[k];
                    }
                }
            }
            if (!mixing.isEmpty()) {
                runMixed(rows, mixing, groups, out);
            }
        }
        return out;
    }

    private Boolean check(TextModel m) {
        if (wordEmbeddings(m) != baseIdentity) {
            throw new IllegalArgumentException("a " + m.adapted().method().descriptor().name() + " model is not built on "
                    + "this predictor's base; build it with SharedBase.adapterModel");
        }
        if (m.adapted().layers().values().stream().anyMatch(AdapterLayer::isMerged)) {
            throw new IllegalArgumentException("a merged " + m.adapted().method().descriptor().name()
                    + " model cannot share the base; unmerge it first");
        }
        return Boolean.TRUE;
    }

    private void runMixed(List<Row> rows, List<TextModel> models, Map<TextModel, List<Integer>> groups, float[][] out) {
        List<TokenBatch> batches = new ArrayList<>();
        List<RowSegment> segments = new ArrayList<>();
        int start = 0;
        int longest = 1;
        for (TextModel m : models) {
            List<Integer> idx = groups.get(m);
            TokenBatch b = m.tokenizer().encode(idx.stream().map(i -> rows.get(i).text()).toList());
            batches.add(b);
            longest = Math.max(longest, b.length());
            segments.add(new RowSegment(start, start + idx.size(), m.adapted().layers()));
            start += idx.size();
        }
        TokenBatch all = concat(batches, longest, start);
        try (NDScope scope = new NDScope()) {
            NDList in = all.toNDList(manager);
            ParameterStore ps = new ParameterStore(manager, false);
            NDArray hidden = encoder.encode(ps, in.get(0), in.get(1), in.get(2), segments);
            NDArray pooled = pooling.pool(hidden, in.get(1));
            for (int s = 0; s < models.size(); s++) {
                TextModel m = models.get(s);
                RowSegment seg = segments.get(s);
                NDArray rowsPooled = segments.size() == 1 ? pooled : pooled.get(new NDIndex(seg.start() + ":" + seg.end()));
                NDArray result = m.task().activate(m.head().apply(ps, rowsPooled, false));
                int width = (int) result.getShape().get(1);
                float[] flat = result.toFloatArray();
                List<Integer> idx = groups.get(m);
                for (int k = 0; k < idx.size(); k++) {
                    out[idx.get(k)] = Arrays.copyOfRange(flat, k * width, (k + 1) * width);
                }
            }
        }
    }

    private static TokenBatch concat(List<TokenBatch> batches, int longest, int rows) {
        long[][] ids = new long[rows][];
        long[][] mask = new long[rows][];
        long[][] types = new long[rows][];
        int r = 0;
        for (TokenBatch b : batches) {
            for (int i = 0; i < b.size(); i++, r++) {
                // padding is masked out of attention and pooling, so its id does not matter
                ids[r] = Arrays.copyOf(b.ids()[i], longest);
                mask[r] = Arrays.copyOf(b.attentionMask()[i], longest);
                types[r] = Arrays.copyOf(b.typeIds()[i], longest);
            }
        }
        return new TokenBatch(ids, mask, types);
    }
}
