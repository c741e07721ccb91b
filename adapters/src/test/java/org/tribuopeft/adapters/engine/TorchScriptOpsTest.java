package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TorchScript operator module loads from its in-memory archive and its operators take part in autograd. */
class TorchScriptOpsTest {

    @Test
    void archiveBytesDoNotDependOnWhenTheyAreBuilt() {
        assertArrayEquals(TorchScriptOps.archive(), TorchScriptOps.archive());
    }

    @Test
    void fusedLinearEqualsDjlsLinearInValueAndGradients() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(7);
            NDArray x = m.randomNormal(new Shape(3, 5, 8));
            NDArray w = m.randomNormal(new Shape(4, 8));
            NDArray b = m.randomNormal(new Shape(4));
            float[][] ours = withGradients(m, x, w, b, true);
            float[][] djl = withGradients(m, x, w, b, false);
            for (int i = 0; i < ours.length; i++) {
                assertArrayEquals(djl[i], ours[i], 1e-5f, "output/gradient " + i);
            }
        }
    }

    private static float[][] withGradients(NDManager m, NDArray x0, NDArray w0, NDArray b0, boolean scripted) {
        NDArray x = x0.duplicate();
        NDArray w = w0.duplicate();
        NDArray b = b0.duplicate();
        for (NDArray a : new NDArray[] {x, w, b}) {
            a.setRequiresGradient(true);
        }
        NDArray y;
        try (GradientCollector gc = m.getEngine().newGradientCollector()) {
            y = scripted ? TorchScriptOps.get().linear(x, w, b, false) : Linear.linear(x, w, b).singletonOrThrow();
            gc.backward(y.mul(y).sum());
        }
        return new float[][] {y.toFloatArray(), x.getGradient().toFloatArray(), w.getGradient().toFloatArray(),
                b.getGradient().toFloatArray()};
    }

    @Test
    void bfloat16CastRoundsAndItsGradientComesBackAsFloat32() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray x = m.create(new float[] {1f, 1.00390625f, 3.14159f});
            x.setRequiresGradient(true);
            TorchScriptOps ops = TorchScriptOps.get();
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                NDArray half = ops.toDtype(x, TorchScriptOps.BFLOAT16);
                // DJL 0.35.1 has no name for a bfloat16 tensor the engine made: it reports UNKNOWN
                assertEquals(DataType.UNKNOWN, half.getDataType());
                NDArray back = ops.toDtype(half, TorchScriptOps.FLOAT32);
                assertArrayEquals(new float[] {1f, 1f, 3.140625f}, back.toFloatArray());
                gc.backward(back.mul(back).sum());
            }
            NDArray g = x.getGradient();
            assertEquals(DataType.FLOAT32, g.getDataType());
            assertArrayEquals(new float[] {2f, 2f, 6.28125f}, g.toFloatArray());
        }
    }

    @Test
    void gradientsComeBackFreshWithoutTouchingTheGradientBuffers() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray a = m.create(new float[] {1f, 2f});
            NDArray b = m.create(new float[] {3f});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            NDArray[] g;
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                // d/da sum(a² · b) = 2ab, d/db = sum(a²)
                NDArray loss = a.mul(a).mul(b).sum();
                g = TorchScriptOps.get().gradients(loss, java.util.List.of(a, b));
            }
            assertArrayEquals(new float[] {6f, 12f}, g[0].toFloatArray());
            assertArrayEquals(new float[] {5f}, g[1].toFloatArray());
            assertArrayEquals(new float[] {0f, 0f}, a.getGradient().toFloatArray());
        }
    }

    @Test
    void globalNormIsTheNormOfAllTensorsTogether() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray a = m.create(new float[] {3f, 4f});
            NDArray b = m.create(new float[] {12f}, new Shape(1, 1));
            NDArray c = m.create(new float[] {0f, 84f, 0f});
            // sqrt(9 + 16 + 144 + 7056) = 85
            assertEquals(85f, TorchScriptOps.get().globalNorm(a, java.util.List.of(a, b, c)).getFloat(), 1e-5f);
            NDArray bad = m.create(new float[] {1f, Float.NaN});
            assertTrue(Float.isNaN(TorchScriptOps.get().globalNorm(a, java.util.List.of(a, bad)).getFloat()));
        }
    }

    @Test
    void fusedLowRankLinearEqualsTheSeparateOperatorsInValueAndEveryGradientWithAndWithoutDropout() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(4);
            NDArray x = m.randomNormal(new Shape(3, 5, 8));
            NDArray w = m.randomNormal(new Shape(6, 8));
            NDArray bias = m.randomNormal(new Shape(6));
            NDArray a = m.randomNormal(new Shape(2, 8));
            NDArray b = m.randomNormal(new Shape(6, 2));
            for (double p : new double[] {0, 0.4}) {
                for (boolean withBias : new boolean[] {true, false}) {
                    NDArray bi = withBias ? bias : null;
                    float[][] fused = lowRankWithGradients(m, x, w, bi, a, b, p, true);
                    float[][] separate = lowRankWithGradients(m, x, w, bi, a, b, p, false);
                    assertEquals(new Shape(3, 5, 6).size(), fused[0].length);
                    for (int i = 0; i < fused.length; i++) {
                        assertArrayEquals(separate[i], fused[i], 1e-4f,
                                "output/gradient " + i + ", dropout " + p + ", bias " + withBias);
                    }
                }
            }
        }
    }

    @Test
    void lowRankProductEqualsTwoLinearsInValueAndEveryGradient() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(5);
            NDArray x = m.randomNormal(new Shape(3, 5, 8));
            NDArray a = m.randomNormal(new Shape(2, 8));
            NDArray b = m.randomNormal(new Shape(6, 2));
            NDArray[] fused = valueAndGradients(m, in -> TorchScriptOps.get().lowRank(in[0], in[1], in[2]), x, a, b);
            NDArray[] separate = valueAndGradients(m, in -> Linear.linear(Linear.linear(in[0], in[1])
                    .singletonOrThrow(), in[2]).singletonOrThrow(), x, a, b);
            for (NDArray[] result : new NDArray[][] {fused, separate}) {
                assertEquals(new Shape(3, 5, 6), result[0].getShape());
                assertEquals(b.getShape(), result[3].getShape());
            }
            for (int i = 0; i < fused.length; i++) {
                assertArrayEquals(separate[i].toFloatArray(), fused[i].toFloatArray(), 1e-4f, "output/gradient " + i);
            }
        }
    }

    @Test
    void freshGradientsOfTheLowRankFactorsMoveTheFusedAdamWStepOnTheirOwnElements() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(6);
            NDArray x = m.randomNormal(new Shape(3, 5, 8));
            NDArray w = m.randomNormal(new Shape(6, 8));
            NDArray a = m.randomNormal(new Shape(2, 8));
            NDArray b = m.randomNormal(new Shape(6, 2));
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            NDArray r = weighting(m);
            TorchScriptOps ops = TorchScriptOps.get();
            NDArray[] fresh;
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                fresh = ops.gradients(ops.linearLowRank(x, w, null, a, b, 0.75, 0, false).mul(r).sum(), List.of(a, b));
            }
            float[] expected = lowRankWithGradients(m, x, w, null, a, b, 0, false)[4];
            assertArrayEquals(expected, fresh[1].toFloatArray(), 1e-4f);
            // the first AdamW step without decay moves each value by lr·g/(|g| + eps): against its own gradient's sign
            NDArray param = b.duplicate();
            float[] before = param.toFloatArray();
            double lr = 0.01;
            ops.adamwGroup(List.of(param), List.of(fresh[1]), List.of(m.zeros(b.getShape())),
                    List.of(m.zeros(b.getShape())), List.of(m.create(1f)), lr, 0.9, 0.999, 0, 1e-8, 1, false);
            float[] after = param.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(-lr * Math.signum(expected[i]), after[i] - before[i], 1e-4, "value " + i);
            }
        }
    }

    /** Output, then the gradients of x, W, A, B of {@code sum(y · r)} for a fixed random r; dropout seeded alike. */
    private static float[][] lowRankWithGradients(NDManager m, NDArray x, NDArray w, NDArray bias, NDArray a,
                                                  NDArray b, double p, boolean fused) {
        TorchScriptOps ops = TorchScriptOps.get();
        NDArray[] result = valueAndGradients(m, in -> {
            m.getEngine().setRandomSeed(17);
            if (fused) {
                return ops.linearLowRank(in[0], in[1], bias, in[2], in[3], 0.75, p, false);
            }
            NDArray dropped = p > 0 ? ops.dropout(in[0], p) : in[0];
            NDArray low = Linear.linear(Linear.linear(dropped, in[2]).singletonOrThrow(), in[3]).singletonOrThrow();
            return ops.linear(in[0], in[1], bias, false).add(low.mul(0.75f));
        }, x, w, a, b);
        float[][] values = new float[result.length][];
        for (int i = 0; i < result.length; i++) {
            values[i] = result[i].toFloatArray();
        }
        return values;
    }

    /** The fixed r of shape [3, 5, 6] whose weighted sum {@code sum(y · r)} the gradient tests take. */
    private static NDArray weighting(NDManager m) {
        return m.arange(90f).reshape(3, 5, 6).sin();
    }

    /**
     * {@code f} applied to trainable copies of {@code inputs}, then the gradient of each copy of
     * {@code sum(f · r)} for a fixed r of shape [3, 5, 6]: the output first, then the gradients in input order.
     */
    private static NDArray[] valueAndGradients(NDManager m, Function<NDArray[], NDArray> f, NDArray... inputs) {
        NDArray[] copies = new NDArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            copies[i] = inputs[i].duplicate();
            copies[i].setRequiresGradient(true);
        }
        NDArray r = weighting(m);
        NDArray y;
        try (GradientCollector gc = m.getEngine().newGradientCollector()) {
            y = f.apply(copies);
            gc.backward(y.mul(r).sum());
        }
        NDArray[] result = new NDArray[inputs.length + 1];
        result[0] = y;
        for (int i = 0; i < inputs.length; i++) {
            result[i + 1] = copies[i].getGradient();
        }
        return result;
    }

    @Test
    void dropoutZeroesAboutPAndScalesTheRestAndItsGradientIsTheMask() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            int n = 200_000;
            double p = 0.1;
            NDArray x = m.ones(new Shape(n));
            x.setRequiresGradient(true);
            m.getEngine().setRandomSeed(11);
            NDArray y;
            try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                y = TrainingDropout.apply(x, p, true);
                gc.backward(y.sum());
            }
            float[] out = y.toFloatArray();
            float[] grad = x.getGradient().toFloatArray();
            float kept = (float) (1 / (1 - p));
            int zeros = 0;
            for (int i = 0; i < n; i++) {
                assertTrue(out[i] == 0f || out[i] == kept, "element " + i + " is " + out[i]);
                assertEquals(out[i], grad[i], "gradient " + i);
                zeros += out[i] == 0f ? 1 : 0;
            }
            // binomial(200000, 0.1): standard deviation 134, so 5 sigma is 670
            assertEquals(n * p, zeros, 670, "dropped elements");
            m.getEngine().setRandomSeed(11);
            assertArrayEquals(out, TrainingDropout.apply(m.ones(new Shape(n)), p, true).toFloatArray(),
                    "the same seed draws the same mask");
            NDArray same = TrainingDropout.apply(x, p, false);
            assertTrue(same == x, "no dropout while not training");
            assertThrows(IllegalArgumentException.class, () -> TrainingDropout.apply(x, 1.0, true));
        }
    }

    @Test
    void deviceDrawnMasksDropAtTheRateInBothHalvesOfEachDrawIndependentlyForOddShapes() {
        // off the CPU each 64-bit draw of the device's generator decides two elements, one in each half of the
        // tensor: both halves must drop at the rate, and element i must not depend on element i + half (the method
        // runs on the CPU here, called directly, as it runs on an accelerator)
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Shape shape = new Shape(11, 101, 91);
            int n = (int) shape.size();
            int half = (n + 1) / 2;
            for (double p : new double[] {0.1, 0.5, 0.9}) {
                m.getEngine().setRandomSeed(3);
                NDArray ones = m.ones(shape);
                NDArray y = TorchScriptOps.get().call(ones, "dropout", ones, p);
                assertEquals(shape, y.getShape(), "p " + p);
                float[] out = y.toFloatArray();
                int firstZeros = 0;
                int secondZeros = 0;
                int agree = 0;
                for (int i = 0; i < n; i++) {
                    boolean dropped = out[i] == 0f;
                    if (i < half) {
                        firstZeros += dropped ? 1 : 0;
                    } else {
                        secondZeros += dropped ? 1 : 0;
                        agree += dropped == (out[i - half] == 0f) ? 1 : 0;
                    }
                }
                int second = n - half;
                assertEquals(half * p, firstZeros, 5 * Math.sqrt(half * p * (1 - p)), "first half, p " + p);
                assertEquals(second * p, secondZeros, 5 * Math.sqrt(second * p * (1 - p)), "second half, p " + p);
                double same = p * p + (1 - p) * (1 - p);
                assertEquals(second * same, agree, 5 * Math.sqrt(second * same * (1 - same)),
                        "pairs from one draw agree as often as independent ones, p " + p);
            }
        }
    }

    @Test
    void attentionWithDropoutComputesWhatTheFusedKernelDoesWhenNothingIsDropped() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(5);
            NDArray q = m.randomNormal(new Shape(2, 7, 12));
            NDArray k = m.randomNormal(new Shape(2, 7, 12));
            NDArray v = m.randomNormal(new Shape(2, 7, 12));
            NDArray mask = m.create(new float[] {0, 0, 0, 0, 0, -1e4f, -1e4f, 0, 0, 0, 0, 0, 0, 0},
                    new Shape(2, 1, 1, 7));
            TorchScriptOps ops = TorchScriptOps.get();
            float[] fused = ops.attention(q, k, v, mask, 3, 0, false).toFloatArray();
            // a rate so small that the composite path runs and keeps every weight (a draw drops with chance 2^-32)
            float[] composite = ops.attention(q, k, v, mask, 3, 1e-12, false).toFloatArray();
            assertArrayEquals(fused, composite, 1e-5f);
            m.getEngine().setRandomSeed(5);
            float[] dropped = ops.attention(q, k, v, mask, 3, 0.5, false).toFloatArray();
            assertTrue(!Arrays.equals(fused, dropped), "a rate of 0.5 drops attention weights");
        }
    }

    @Test
    void attentionWithoutAMaskIsBitIdenticalToAnAllZeroMaskInEveryPrecisionWithAndWithoutDropout() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            m.getEngine().setRandomSeed(8);
            NDArray q = m.randomNormal(new Shape(2, 9, 12));
            NDArray k = m.randomNormal(new Shape(2, 9, 12));
            NDArray v = m.randomNormal(new Shape(2, 9, 12));
            NDArray zeros = m.zeros(new Shape(2, 1, 1, 9));
            NDArray padded = m.create(new float[] {0, 0, 0, 0, 0, 0, 0, -1e4f, -1e4f, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                    new Shape(2, 1, 1, 9));
            TorchScriptOps ops = TorchScriptOps.get();
            for (boolean bf16 : new boolean[] {false, true}) {
                for (double p : new double[] {0, 0.3}) {
                    m.getEngine().setRandomSeed(21);
                    float[] masked = ops.attention(q, k, v, zeros, 3, p, bf16).toFloatArray();
                    m.getEngine().setRandomSeed(21);
                    NDArray none = ops.attention(q, k, v, null, 3, p, bf16);
                    assertEquals(new Shape(2, 9, 12), none.getShape());
                    assertEquals(DataType.FLOAT32, none.getDataType());
                    assertArrayEquals(masked, none.toFloatArray(), "bf16 " + bf16 + ", dropout " + p);
                    m.getEngine().setRandomSeed(21);
                    assertTrue(!Arrays.equals(masked, ops.attention(q, k, v, padded, 3, p, bf16).toFloatArray()),
                            "a real mask changes the result, bf16 " + bf16 + ", dropout " + p);
                }
            }
        }
    }

    @Test
    void unsupportedArgumentIsRefusedNamingMethodAndPosition() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray x = m.ones(new Shape(2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TorchScriptOps.get().call(x, "to_dtype", x, "bf16"));
            assertTrue(e.getMessage().contains("argument 1 of TorchScript method to_dtype is a java.lang.String"),
                    e.getMessage());
        }
    }
}
