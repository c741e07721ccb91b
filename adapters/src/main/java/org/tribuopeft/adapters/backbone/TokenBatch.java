package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * A tokenized batch padded to its longest member: token ids, attention mask (1 = token, 0 = padding)
 * and token types, each [batch][tokens].
 *
 * @param ids token ids
 * @param attentionMask 1 for real tokens, 0 for padding
 * @param typeIds token type (segment) ids
 */
public record TokenBatch(long[][] ids, long[][] attentionMask, long[][] typeIds) {

    /** Number of sequences. */
    public int size() {
        return ids.length;
    }

    /** Padded length of every sequence. */
    public int length() {
        return ids.length == 0 ? 0 : ids[0].length;
    }

    /** Number of real (unpadded) tokens in sequence {@code i}. */
    public int tokenCount(int i) {
        int n = 0;
        for (long m : attentionMask[i]) {
            n += (int) m;
        }
        return n;
    }

    /**
     * The rows at {@code indices}, re-padded to the longest of them (dynamic padding), so a batch of short
     * texts costs only its own length.
     */
    public TokenBatch select(int[] indices) {
        int longest = 1;
        for (int i : indices) {
            longest = Math.max(longest, tokenCount(i));
        }
        long[][] sIds = new long[indices.length][];
        long[][] sMask = new long[indices.length][];
        long[][] sTypes = new long[indices.length][];
        for (int k = 0; k < indices.length; k++) {
            sIds[k] = java.util.Arrays.copyOf(ids[indices[k]], longest);
            sMask[k] = java.util.Arrays.copyOf(attentionMask[indices[k]], longest);
            sTypes[k] = java.util.Arrays.copyOf(typeIds[indices[k]], longest);
        }
        return new TokenBatch(sIds, sMask, sTypes);
    }

    /** The three arrays as int64 NDArrays on {@code manager}: ids, attention mask, token types. */
    public NDList toNDList(NDManager manager) {
        return new NDList(create(manager, ids), create(manager, attentionMask), create(manager, typeIds));
    }

    private static NDArray create(NDManager manager, long[][] rows) {
        return manager.create(rows);
    }
}
