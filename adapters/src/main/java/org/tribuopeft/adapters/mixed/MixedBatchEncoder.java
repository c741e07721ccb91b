package org.tribuopeft.adapters.mixed;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.BertLayer;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.TargetModule;

import java.util.List;

/**
 * An encoder over a shared pretrained base whose every Linear slot runs a mixed-adapter batch: rows grouped in
 * {@link RowSegment}s, each segment with its own adapter's layers (or none). The base weights are the ones of
 * the encoder given, never copied; adapters are whatever layers the segments name, installed nowhere, so any
 * number of adapters built on the same base can take part in one pass. Not thread-safe: one pass at a time.
 */
public final class MixedBatchEncoder {
    private final BertEncoder encoder;
    private List<RowSegment> current;

    /**
     * Builds the mixed encoder over the base arrays of {@code anyOnBase} (an encoder on the pretrained weights,
     * with or without an adapter installed; its adapters are not used).
     */
    public MixedBatchEncoder(BertEncoder anyOnBase) {
        this.encoder = anyOnBase.shareBase();
        for (int l = 0; l < encoder.layers().size(); l++) {
            BertLayer layer = encoder.layers().get(l);
            for (TargetModule t : TargetModule.values()) {
                layer.setLinear(t, new MixedLinear(layer.linear(t).base(), BertWeights.layerPrefix(l) + t.path(),
                        () -> current));
            }
        }
    }

    /** The underlying encoder (its slots hold the mixed layers). */
    public BertEncoder encoder() {
        return encoder;
    }

    /**
     * Runs one inference pass whose rows belong to several adapters.
     *
     * @param ps where parameter values are read from
     * @param ids [batch, tokens] int64
     * @param attentionMask [batch, tokens] int64
     * @param tokenTypes [batch, tokens] int64
     * @param segments consecutive row ranges covering the batch from row 0 to the last, in order
     * @return last_hidden_state [batch, tokens, hidden]
     * @throws IllegalArgumentException when the segments do not tile the batch
     */
    public synchronized NDArray encode(ParameterStore ps, NDArray ids, NDArray attentionMask, NDArray tokenTypes,
                                       List<RowSegment> segments) {
        long batch = ids.getShape().get(0);
        int next = 0;
        for (RowSegment s : segments) {
            if (s.start() != next) {
                throw new IllegalArgumentException("row segments must tile the batch in order: expected one starting at "
                        + next + ", got [" + s.start() + ", " + s.end() + ")");
            }
            next = s.end();
        }
        if (next != batch) {
            throw new IllegalArgumentException("row segments cover " + next + " rows of a batch of " + batch);
        }
        current = List.copyOf(segments);
        try {
            return encoder.encode(ps, ids, attentionMask, tokenTypes, false);
        } finally {
            current = null;
        }
    }
}
