package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ComputePrecision#linear} and {@link ComputePrecision#attention} against the DJL formulation the encoder used
 * before them, in value and gradients, and their dropout against the engine seed.
 */
class ComputePrecisionOpsTest {
    private static final int BATCH = 2;
    private static final int TOKENS = 5;
    private static final int KEYS = 7;
    private static final int HEADS = 3;
    private static final int HEAD_SIZE = 4;
    private static final int HIDDEN = HEADS * HEAD_SIZE;

    @Test
    void float32LinearEqualsDjlLinearInValueAndGradients() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(11);
            NDArray x = m.randomNormal(new Shape(3, 5, 16));
            NDArray w = m.randomNormal(new Shape(6, 16));
            NDArray b = m.randomNormal(new Shape(6));
            NDArray r = m.randomNormal(new Shape(3, 5, 6));
            for (NDArray bias : new NDArray[] {b, null}) {
                float[][] ours = linearWithGradients(m, ComputePrecision.FLOAT32, x, w, bias, r);
                float[][] djl = linearWithGradients(m, null, x, w, bias, r);
                for (int i = 0; i < ours.length; i++) {
                    assertArrayEquals(djl[i], ours[i], 1e-5f, "bias " + (bias != null) + ", output/gradient " + i);
                }
            }
        }
    }

    /**
     * bfloat16 keeps 8 significant bits: x and W are each rounded by at most 2⁻⁹ relative, so every product x·w by at
     * most 2⁻⁸ of |x·w|; the float32-accumulated sum and the bias are rounded to bfloat16 once or twice more (2⁻⁹
     * each). So |ours − float32| ≤ 2⁻⁸·S + 3·2⁻⁹·S < 2⁻⁶·S with S = |x|·|W|ᵀ + |b|. The gradients are the same kind
     * of product (the float32 upstream gradient rounded to bfloat16 times a rounded operand), bounded the same way.
     */
    @Test
    void bfloat16LinearStaysWithinRoundingBoundInValueAndGradients() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(12);
            NDArray x = m.randomNormal(new Shape(15, 64));
            NDArray w = m.randomNormal(new Shape(8, 64));
            NDArray b = m.randomNormal(new Shape(8));
            NDArray r = m.randomNormal(new Shape(15, 8));
            float[][] ours = linearWithGradients(m, ComputePrecision.BFLOAT16, x, w, b, r);
            float[][] exact = linearWithGradients(m, ComputePrecision.FLOAT32, x, w, b, r);
            NDArray ax = x.abs();
            NDArray aw = w.abs();
            NDArray ar = r.abs();
            float[][] bounds = {
                ax.matMul(aw.transpose()).add(b.abs()).toFloatArray(),
                ar.matMul(aw).toFloatArray(),
                ar.transpose().matMul(ax).toFloatArray(),
                ar.sum(new int[] {0}).toFloatArray()};
            for (int i = 0; i < ours.length; i++) {
                assertWithin(exact[i], ours[i], bounds[i], 1f / 64, "output/gradient " + i);
            }
            assertFalse(java.util.Arrays.equals(exact[0], ours[0]), "the product was not rounded to bfloat16");
        }
    }

    private static float[][] linearWithGradients(NDManager m, ComputePrecision precision, NDArray x0, NDArray w0,
                                                 NDArray b0, NDArray upstream) {
        NDArray x = x0.duplicate();
        NDArray w = w0.duplicate();
        NDArray b = b0 == null ? null : b0.duplicate();
        x.setRequiresGradient(true);
        w.setRequiresGradient(true);
        if (b != null) {
            b.setRequiresGradient(true);
        }
        NDArray y;
        try (GradientCollector gc = m.getEngine().newGradientCollector()) {
            if (precision != null) {
                y = precision.linear(x, w, b);
            } else {
                y = (b == null ? Linear.linear(x, w) : Linear.linear(x, w, b)).singletonOrThrow();
            }
            gc.backward(y.mul(upstream).sum());
        }
        return b == null
                ? new float[][] {y.toFloatArray(), x.getGradient().toFloatArray(), w.getGradient().toFloatArray()}
                : new float[][] {y.toFloatArray(), x.getGradient().toFloatArray(), w.getGradient().toFloatArray(),
                    b.getGradient().toFloatArray()};
    }

    @Test
    void float32AttentionEqualsDjlFormulationInValueAndGradients() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Inputs in = Inputs.random(m, 21);
            float[][] ours = attentionWithGradients(m, in, ComputePrecision.FLOAT32, 0, true);
            float[][] djl = attentionWithGradients(m, in, null, 0, true);
            for (int i = 0; i < ours.length; i++) {
                assertArrayEquals(djl[i], ours[i], 1e-5f, "output/gradient " + i);
            }
        }
    }

    /**
     * q, k and v rounded to bfloat16 (2⁻⁹ relative) move a score q·k/√d by about 2⁻⁸·Σ|q||k|/√d ≈ 2⁻⁸·√d·E|q||k|,
     * under 1 % for these unit-normal inputs with d = 4; a softmax weight then moves by about that fraction, and the
     * context (a weighted mean of rounded values, rounded once more) by about 1 % of max|v|. The bound allows 3 % of
     * the largest reference value, for outputs and gradients alike.
     */
    @Test
    void bfloat16AttentionStaysNearFloat32InValueAndGradients() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Inputs in = Inputs.random(m, 22);
            float[][] ours = attentionWithGradients(m, in, ComputePrecision.BFLOAT16, 0, true);
            float[][] exact = attentionWithGradients(m, in, ComputePrecision.FLOAT32, 0, true);
            for (int i = 0; i < ours.length; i++) {
                float bound = 0.03f * maxAbs(exact[i]);
                assertArrayEquals(exact[i], ours[i], bound, "output/gradient " + i);
            }
            assertFalse(java.util.Arrays.equals(exact[0], ours[0]), "attention was not computed in bfloat16");
        }
    }

    @Test
    void maskedKeysDoNotReachTheContextInEitherPrecision() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Inputs in = Inputs.random(m, 23);
            // the last key of example 1 is masked; a huge value there must change nothing
            NDArray loud = in.v.duplicate();
            loud.set(new NDIndex("1, -1, :"), 1e4f);
            for (ComputePrecision p : ComputePrecision.values()) {
                float[] quiet = p.attention(in.q, in.k, in.v, HEADS, in.mask, 0, false).toFloatArray();
                float[] withLoud = p.attention(in.q, in.k, loud, HEADS, in.mask, 0, false).toFloatArray();
                assertArrayEquals(quiet, withLoud, 0f, p.configName());
            }
        }
    }

    @Test
    void attentionDropoutFollowsTheEngineSeedAndOnlyWhileTraining() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Inputs in = Inputs.random(m, 24);
            for (ComputePrecision p : ComputePrecision.values()) {
                m.getEngine().setRandomSeed(5);
                float[][] first = attentionWithGradients(m, in, p, 0.5, true);
                m.getEngine().setRandomSeed(5);
                float[][] again = attentionWithGradients(m, in, p, 0.5, true);
                m.getEngine().setRandomSeed(6);
                float[][] otherSeed = attentionWithGradients(m, in, p, 0.5, true);
                float[][] noDropout = attentionWithGradients(m, in, p, 0, true);
                float[][] predicting = attentionWithGradients(m, in, p, 0.5, false);
                for (int i = 0; i < first.length; i++) {
                    assertArrayEquals(first[i], again[i], 0f, p.configName() + " output/gradient " + i);
                    assertArrayEquals(noDropout[i], predicting[i], 0f, p.configName() + " output/gradient " + i);
                }
                assertFalse(java.util.Arrays.equals(first[0], otherSeed[0]), p.configName() + ": seed ignored");
                assertFalse(java.util.Arrays.equals(first[0], noDropout[0]), p.configName() + ": no dropout applied");
            }
        }
    }

    /** The encoder's inputs in miniature: keys longer than queries (a prefix) and padding on example 1. */
    private record Inputs(NDArray q, NDArray k, NDArray v, NDArray mask, NDArray upstream) {
        static Inputs random(NDManager m, int seed) {
            m.getEngine().setRandomSeed(seed);
            NDArray q = m.randomNormal(new Shape(BATCH, TOKENS, HIDDEN));
            NDArray k = m.randomNormal(new Shape(BATCH, KEYS, HIDDEN));
            NDArray v = m.randomNormal(new Shape(BATCH, KEYS, HIDDEN));
            float[] keep = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
            NDArray mask = Scalars.mul(Scalars.sub(m.create(keep, new Shape(BATCH, 1, 1, KEYS)), 1f), Float.MAX_VALUE);
            NDArray upstream = m.randomNormal(new Shape(BATCH, TOKENS, HIDDEN));
            return new Inputs(q, k, v, mask, upstream);
        }
    }

    private static float[][] attentionWithGradients(NDManager m, Inputs in, ComputePrecision precision, double dropout,
                                                    boolean training) {
        NDArray q = in.q.duplicate();
        NDArray k = in.k.duplicate();
        NDArray v = in.v.duplicate();
        for (NDArray a : new NDArray[] {q, k, v}) {
            a.setRequiresGradient(true);
        }
        NDArray y;
        try (GradientCollector gc = m.getEngine().newGradientCollector()) {
            y = precision == null ? djlAttention(q, k, v, in.mask)
                    : precision.attention(q, k, v, HEADS, in.mask, dropout, training);
            assertEquals(new Shape(BATCH, TOKENS, HIDDEN), y.getShape());
            gc.backward(y.mul(in.upstream).sum());
        }
        return new float[][] {y.toFloatArray(), q.getGradient().toFloatArray(), k.getGradient().toFloatArray(),
            v.getGradient().toFloatArray()};
    }

    /** What BertLayer computed before the fused operator: per-head matmuls, scores divided by √d, softmax. */
    private static NDArray djlAttention(NDArray q, NDArray k, NDArray v, NDArray mask) {
        NDArray qh = q.reshape(BATCH, TOKENS, HEADS, HEAD_SIZE).transpose(0, 2, 1, 3);
        NDArray kh = k.reshape(BATCH, KEYS, HEADS, HEAD_SIZE).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(BATCH, KEYS, HEADS, HEAD_SIZE).transpose(0, 2, 1, 3);
        NDArray probs = Scalars.div(qh.matMul(kh), (float) Math.sqrt(HEAD_SIZE)).add(mask).softmax(-1);
        return probs.matMul(vh).transpose(0, 2, 1, 3).reshape(BATCH, TOKENS, HIDDEN);
    }

    private static void assertWithin(float[] expected, float[] actual, float[] scale, float relative, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float bound = relative * scale[i] + 1e-6f;
            assertTrue(Math.abs(expected[i] - actual[i]) <= bound, what + " [" + i + "]: " + actual[i] + " vs "
                    + expected[i] + ", bound " + bound);
        }
    }

    private static float maxAbs(float[] values) {
        float max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
