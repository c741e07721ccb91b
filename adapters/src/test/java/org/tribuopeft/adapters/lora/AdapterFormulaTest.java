package org.tribuopeft.adapters.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraLinear;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.dora.DoraLinear;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each adapter layer's forward pass against an independent double-precision computation of its
 * published formula, on random inputs and random (non-zero) factors.
 */
class AdapterFormulaTest extends EngineTestBase {
    static final int IN = 12;
    static final int OUT = 10;
    static final int R = 4;
    static final int BATCH = 5;

    private final SplittableRandom rng = new SplittableRandom(42);

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextDouble(-1, 1);
        }
        return v;
    }

    private NDArray array(float[] v, long... shape) {
        return manager.create(v, new Shape(shape));
    }

    /** y[b][o] = Σ_i m[o][i]·x[b][i]. */
    static double[][] matvec(float[] m, int rows, int cols, double[][] x) {
        double[][] y = new double[x.length][rows];
        for (int b = 0; b < x.length; b++) {
            for (int o = 0; o < rows; o++) {
                double s = 0;
                for (int i = 0; i < cols; i++) {
                    s += (double) m[o * cols + i] * x[b][i];
                }
                y[b][o] = s;
            }
        }
        return y;
    }

    static double[][] toRows(float[] flat, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r][c] = flat[r * cols + c];
            }
        }
        return out;
    }

    static double maxDiff(double[][] expected, NDArray actual) {
        float[] a = actual.toFloatArray();
        int cols = expected[0].length;
        double max = 0;
        for (int r = 0; r < expected.length; r++) {
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, Math.abs(expected[r][c] - a[r * cols + c]));
            }
        }
        return max;
    }

    @Test
    void loraOutputIsWxPlusBPlusScaledBAx() {
        float[] w = random(OUT * IN);
        float[] b = random(OUT);
        float[] a = random(R * IN);
        float[] bb = random(OUT * R);
        float[] x = random(BATCH * IN);
        double scaling = 16.0 / R;
        LoraLinear layer = new LoraLinear(new DenseLinear(array(w, OUT, IN), array(b, OUT)), array(a, R, IN),
                array(bb, OUT, R), scaling, 0.0);
        NDArray y = layer.apply(new ParameterStore(manager, false), array(x, BATCH, IN), false);

        double[][] xs = toRows(x, BATCH, IN);
        double[][] wx = matvec(w, OUT, IN, xs);
        double[][] ax = matvec(a, R, IN, xs);
        double[][] bax = matvec(bb, OUT, R, ax);
        double[][] expected = new double[BATCH][OUT];
        for (int i = 0; i < BATCH; i++) {
            for (int o = 0; o < OUT; o++) {
                expected[i][o] = wx[i][o] + b[o] + scaling * bax[i][o];
            }
        }
        double d = maxDiff(expected, y);
        System.out.printf("LoRA layer vs formula: max |diff| = %.2e%n", d);
        assertTrue(d <= 1e-5, "LoRA differs from Wx + b + s·B(Ax) by " + d);
    }

    @Test
    void doraOutputIsMagnitudeTimesNormalisedAdaptedWeight() {
        float[] w = random(OUT * IN);
        float[] b = random(OUT);
        float[] a = random(R * IN);
        float[] bb = random(OUT * R);
        float[] x = random(BATCH * IN);
        double s = 0.5;
        DoraLinear layer = new DoraLinear(new DenseLinear(array(w, OUT, IN), array(b, OUT)), array(a, R, IN),
                array(bb, OUT, R), s, 0.0);
        float[] m = random(OUT);
        for (int i = 0; i < OUT; i++) {
            m[i] = Math.abs(m[i]) + 0.5f;
        }
        HostTensor.copyInto(new HostTensor(new long[] {OUT}, m), layer.magnitude().getArray());
        NDArray y = layer.apply(new ParameterStore(manager, false), array(x, BATCH, IN), false);

        // W' = W + s·B·A; y = (m / ‖W'‖_row) ⊙ (W'·x) + b
        double[] adapted = new double[OUT * IN];
        for (int o = 0; o < OUT; o++) {
            for (int i = 0; i < IN; i++) {
                double ba = 0;
                for (int k = 0; k < R; k++) {
                    ba += (double) bb[o * R + k] * a[k * IN + i];
                }
                adapted[o * IN + i] = w[o * IN + i] + s * ba;
            }
        }
        double[][] expected = new double[BATCH][OUT];
        for (int o = 0; o < OUT; o++) {
            double norm = 0;
            for (int i = 0; i < IN; i++) {
                norm += adapted[o * IN + i] * adapted[o * IN + i];
            }
            norm = Math.sqrt(norm);
            for (int n = 0; n < BATCH; n++) {
                double dot = 0;
                for (int i = 0; i < IN; i++) {
                    dot += adapted[o * IN + i] * x[n * IN + i];
                }
                expected[n][o] = m[o] / norm * dot + b[o];
            }
        }
        double d = maxDiff(expected, y);
        System.out.printf("DoRA layer vs formula: max |diff| = %.2e%n", d);
        assertTrue(d <= 1e-5, "DoRA differs from m·W'x/‖W'‖ + b by " + d);
    }

    @Test
    void adaLoraOutputIsWxPlusBPlusQLambdaPxScaledByAlphaOverRank() {
        float[] w = random(OUT * IN);
        float[] b = random(OUT);
        float[] a = random(R * IN);
        float[] e = random(R);
        float[] bb = random(OUT * R);
        float[] x = random(BATCH * IN);
        double alpha = 8;
        AdaLoraLinear layer = new AdaLoraLinear(new DenseLinear(array(w, OUT, IN), array(b, OUT)), array(a, R, IN),
                array(e, R, 1), array(bb, OUT, R), alpha, 0.0);
        NDArray y = layer.apply(new ParameterStore(manager, false), array(x, BATCH, IN), false);

        double[][] xs = toRows(x, BATCH, IN);
        double[][] wx = matvec(w, OUT, IN, xs);
        double[][] px = matvec(a, R, IN, xs);
        double[][] expected = new double[BATCH][OUT];
        for (int n = 0; n < BATCH; n++) {
            for (int o = 0; o < OUT; o++) {
                double path = 0;
                for (int k = 0; k < R; k++) {
                    path += (double) bb[o * R + k] * e[k] * px[n][k];
                }
                expected[n][o] = wx[n][o] + b[o] + path * alpha / (R + 1e-5);
            }
        }
        double d = maxDiff(expected, y);
        System.out.printf("AdaLoRA layer vs formula: max |diff| = %.2e%n", d);
        assertTrue(d <= 1e-5, "AdaLoRA differs from Wx + b + QΛPx·α/(r+1e-5) by " + d);
    }

    @Test
    void pissaStartsExactlyAtTheBaseLayer() {
        float[] w = random(OUT * IN);
        float[] x = random(BATCH * IN);
        DenseLinear base = new DenseLinear(array(w.clone(), OUT, IN), array(random(OUT), OUT));
        NDArray before = base.apply(new ParameterStore(manager, false), array(x, BATCH, IN), false);
        double beforeMax = 0;
        LoraConfig cfg = new LoraConfig(R, 8, 0, java.util.List.of("query")).withInit(LoraInit.PISSA);
        LoraConfig.InitialFactors f = cfg.initialFactors(base, "test", new SplittableRandom(1));
        LoraLinear layer = new LoraLinear(base, f.a(), f.b(), cfg.scaling(), 0);
        NDArray after = layer.apply(new ParameterStore(manager, false), array(x, BATCH, IN), false);
        float[] p = before.toFloatArray();
        float[] q = after.toFloatArray();
        for (int i = 0; i < p.length; i++) {
            beforeMax = Math.max(beforeMax, Math.abs(p[i] - q[i]));
        }
        System.out.printf("PiSSA start vs base layer: max |diff| = %.2e%n", beforeMax);
        assertTrue(beforeMax <= 1e-5, "PiSSA-initialised layer differs from the base by " + beforeMax);
        // and the residual is not W: the top singular directions moved into A and B
        assertTrue(HostTensor.of(base.weight().getArray()).maxAbsDiff(new HostTensor(new long[] {OUT, IN}, w)) > 1e-2);
    }
}
