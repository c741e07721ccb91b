package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import org.tribuopeft.adapters.engine.Scalars;

/** How a sentence vector is taken from the per-token hidden states. */
public enum Pooling {
    /** The hidden state of the first ([CLS]) token (BGE's choice). */
    CLS,
    /** The mean of the hidden states over the attention mask (sentence-transformers' MiniLM choice). */
    MEAN;

    /**
     * Pools a batch.
     *
     * @param hidden [batch, tokens, hidden] hidden states
     * @param attentionMask [batch, tokens] with 1 for real tokens and 0 for padding
     * @return [batch, hidden]
     */
    public NDArray pool(NDArray hidden, NDArray attentionMask) {
        return switch (this) {
            case CLS -> hidden.get(new NDIndex(":, 0, :"));
            case MEAN -> {
                NDArray mask = attentionMask.toType(DataType.FLOAT32, false).expandDims(-1);
                NDArray summed = hidden.mul(mask).sum(new int[] {1});
                NDArray counts = Scalars.maximum(mask.sum(new int[] {1}), 1e-9f);
                yield summed.div(counts);
            }
        };
    }
}
