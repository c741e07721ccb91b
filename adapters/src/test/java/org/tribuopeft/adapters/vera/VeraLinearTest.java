package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VeRA layer against an independent double-precision computation of PEFT's formula, and merging. */
class VeraLinearTest extends EngineTestBase {
    static final int IN = 12;
    static final int OUT = 10;
    static final int MAX_IN = 15;
    static final int MAX_OUT = 13;
    static final int R = 6;
    static final int BATCH = 5;

    private final SplittableRandom rng = new SplittableRandom(42);
    private float[] w;
    private float[] bias;
    private float[] a;
    private float[] b;
    private float[] lambdaD;
    private float[] lambdaB;

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    private static Parameter frozen(String name, NDArray value) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(value);
        p.freeze(true);
        return p;
    }

    private VeraLinear layer() {
        w = random(OUT * IN);
        bias = random(OUT);
        a = random(R * MAX_IN);
        b = random(MAX_OUT * R);
        lambdaD = random(R);
        lambdaB = random(OUT);
        DenseLinear base = new DenseLinear(manager.create(w, new Shape(OUT, IN)), manager.create(bias, new Shape(OUT)));
        return new VeraLinear(base, frozen("vera_A", manager.create(a, new Shape(R, MAX_IN))),
                frozen("vera_B", manager.create(b, new Shape(MAX_OUT, R))), manager.create(lambdaD, new Shape(R)),
                manager.create(lambdaB, new Shape(OUT)), 0.0);
    }

    /** y = Wx + bias + λ_b ⊙ (B[:out, :] (λ_d ⊙ (A[:, :in] x))), in double precision. */
    private double[][] expected(float[] x) {
        double[][] y = new double[BATCH][OUT];
        for (int n = 0; n < BATCH; n++) {
            double[] h = new double[R];
            for (int k = 0; k < R; k++) {
                double s = 0;
                for (int i = 0; i < IN; i++) {
                    s += (double) a[k * MAX_IN + i] * x[n * IN + i];
                }
                h[k] = s * lambdaD[k];
            }
            for (int o = 0; o < OUT; o++) {
                double base = bias[o];
                for (int i = 0; i < IN; i++) {
                    base += (double) w[o * IN + i] * x[n * IN + i];
                }
                double up = 0;
                for (int k = 0; k < R; k++) {
                    up += (double) b[o * R + k] * h[k];
                }
                y[n][o] = base + lambdaB[o] * up;
            }
        }
        return y;
    }

    private static double maxDiff(double[][] e, float[] actual) {
        double max = 0;
        for (int n = 0; n < e.length; n++) {
            for (int o = 0; o < e[n].length; o++) {
                max = Math.max(max, Math.abs(e[n][o] - actual[n * e[n].length + o]));
            }
        }
        return max;
    }

    @Test
    void outputIsWxPlusBiasPlusLambdaBTimesSlicedBTimesLambdaDTimesSlicedAx() {
        VeraLinear layer = layer();
        float[] x = random(BATCH * IN);
        NDArray y = layer.apply(new ParameterStore(manager, false), manager.create(x, new Shape(BATCH, IN)), false);
        double diff = maxDiff(expected(x), y.toFloatArray());
        assertTrue(diff < 1e-5, "VeRA differs from the formula by " + diff);
    }

    @Test
    void mergedOutputEqualsUnmergedOutputAndUnmergeRestoresTheWeight() {
        VeraLinear layer = layer();
        NDArray x = manager.create(random(BATCH * IN), new Shape(BATCH, IN));
        float[] unmerged = layer.apply(new ParameterStore(manager, false), x, false).toFloatArray();
        layer.merge();
        float[] merged = layer.apply(new ParameterStore(manager, false), x, false).toFloatArray();
        double max = 0;
        for (int i = 0; i < merged.length; i++) {
            max = Math.max(max, Math.abs(merged[i] - unmerged[i]));
        }
        assertTrue(max < 1e-5, "merged differs from unmerged by " + max);
        layer.unmerge();
        float[] restored = layer.base().weight().getArray().toFloatArray();
        double wDiff = 0;
        for (int i = 0; i < w.length; i++) {
            wDiff = Math.max(wDiff, Math.abs(restored[i] - w[i]));
        }
        assertTrue(wDiff < 1e-6, "unmerge left the weight off by " + wDiff);
    }

    @Test
    void deltaWeightIsLambdaBScaledBTimesLambdaDScaledA() {
        VeraLinear layer = layer();
        HostTensor delta = layer.deltaWeight();
        assertArrayEquals(new long[] {OUT, IN}, delta.shape());
        double expected = 0;
        for (int k = 0; k < R; k++) {
            expected += (double) lambdaB[3] * b[3 * R + k] * lambdaD[k] * a[k * MAX_IN + 7];
        }
        assertEquals(expected, delta.data()[3 * IN + 7], 1e-5);
    }

    @Test
    void projectionsTooSmallForTheLayerAreRefused() {
        DenseLinear base = new DenseLinear(manager.create(random(OUT * IN), new Shape(OUT, IN)), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new VeraLinear(base,
                frozen("vera_A", manager.zeros(new Shape(R, IN - 1))), frozen("vera_B", manager.zeros(new Shape(OUT, R))),
                manager.zeros(new Shape(R)), manager.zeros(new Shape(OUT)), 0.0));
        assertEquals("VeRA projections A (6, 11), B (10, 6) and vectors λ_d (6), λ_b (10) do not fit a 12→10 layer",
                e.getMessage());
    }
}
