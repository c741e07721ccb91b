package org.tribuopeft.adapters.prefix;

import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;

/**
 * The saved form of trained prefix tensors, computed on the host: the table itself, or the projection
 * {@code tanh(E·W0ᵀ + b0)·W2ᵀ + b2} of the embeddings, as PEFT's {@code get_prompt_embedding_to_save}.
 */
final class PrefixProjection {
    private PrefixProjection() { }

    /** The past keys and values [numVirtualTokens, layers·2·hidden] of trained prefix tensors, by name. */
    static HostTensor keysAndValues(Map<String, HostTensor> tensors) {
        HostTensor table = tensors.get(PrefixTuningConfig.PROMPT_EMBEDDINGS);
        if (table != null) {
            int n = (int) table.dim(0);
            return new HostTensor(new long[] {n, table.data().length / n}, table.data());
        }
        Projection p = new Projection(tensors);
        HostTensor middle = affine(p.embeddings, p.w0, p.b0.data(), true);
        return affine(middle, p.w2, p.b2.data(), false);
    }

    /** {@code x·wᵀ + b}, tanh'ed when asked, in double precision per output. */
    private static HostTensor affine(HostTensor x, HostTensor w, float[] b, boolean tanh) {
        int rows = (int) x.dim(0);
        int in = (int) x.dim(1);
        int out = (int) w.dim(0);
        float[] xs = x.data();
        float[] ws = w.data();
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += (double) xs[r * in + i] * ws[o * in + i];
                }
                y[r * out + o] = (float) (tanh ? Math.tanh(s) : s);
            }
        }
        return new HostTensor(new long[] {rows, out}, y);
    }

    /** The projection tensors by role. */
    private record Projection(HostTensor embeddings, HostTensor w0, HostTensor b0, HostTensor w2, HostTensor b2) {
        Projection(Map<String, HostTensor> t) {
            this(t.get(PrefixTuningConfig.PROJECTION_NAMES.get(0)), t.get(PrefixTuningConfig.PROJECTION_NAMES.get(1)),
                    t.get(PrefixTuningConfig.PROJECTION_NAMES.get(2)), t.get(PrefixTuningConfig.PROJECTION_NAMES.get(3)),
                    t.get(PrefixTuningConfig.PROJECTION_NAMES.get(4)));
        }
    }
}
