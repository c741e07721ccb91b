package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused AdamW follows the textbook AdamW update, decays only the decayed group and resumes exactly. */
class AdamWTest extends EngineTestBase {
    private static final String[] NAMES = {"encoder.layer.0.intermediate.dense.weight", "classifier.bias",
            "encoder.layer.0.output.LayerNorm.weight", "encoder.layer.0.attention.self.query.lora_A.weight"};
    private static final Shape[] SHAPES = {new Shape(3, 5), new Shape(4), new Shape(6), new Shape(2, 7)};
    private static final double WEIGHT_DECAY = 0.1;
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private Map<String, Parameter> parameters(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            values.put(NAMES[i], random(rng, (int) SHAPES[i].size(), 1.0));
        }
        return parameters(values);
    }

    private Map<String, Parameter> parameters(Map<String, float[]> values) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            Parameter.Type type = NAMES[i].endsWith(".bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT;
            Parameter p = Parameter.builder().setName(NAMES[i]).setType(type).build();
            NDArray w = manager.create(values.get(NAMES[i]), SHAPES[i]);
            w.setRequiresGradient(true);
            p.setArray(w);
            out.put(NAMES[i], p);
        }
        return out;
    }

    private static float[] random(SplittableRandom rng, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (scale * (2 * rng.nextDouble() - 1));
        }
        return v;
    }

    /** Gives every parameter the gradient {@code g} by back-propagating {@code sum(w * g)}. */
    private void setGradients(Map<String, Parameter> params, Map<String, float[]> grads) {
        try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
            NDArray total = null;
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                NDArray w = e.getValue().getArray();
                NDArray term = w.mul(manager.create(grads.get(e.getKey()), w.getShape())).sum();
                total = total == null ? term : total.add(term);
            }
            gc.backward(total);
        }
    }

    private static Map<String, float[]> gradients(SplittableRandom rng) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (int i = 0; i < NAMES.length; i++) {
            // mixed magnitudes, so the epsilon and the second moment both matter
            g.put(NAMES[i], random(rng, (int) SHAPES[i].size(), i % 2 == 0 ? 3.0 : 1e-3));
        }
        return g;
    }

    @Test
    void updatesMatchTheTextbookFormulaInDoublePrecision() {
        Map<String, Parameter> params = parameters(11);
        AdamW optimizer = new AdamW(params, WEIGHT_DECAY, BETA1, BETA2, EPS);
        assertEquals(java.util.Set.of("classifier.bias", "encoder.layer.0.output.LayerNorm.weight"),
                optimizer.noDecayNames());
        Map<String, double[]> p = new LinkedHashMap<>();
        Map<String, double[]> m = new LinkedHashMap<>();
        Map<String, double[]> v = new LinkedHashMap<>();
        for (String name : NAMES) {
            float[] w = params.get(name).getArray().toFloatArray();
            p.put(name, toDouble(w));
            m.put(name, new double[w.length]);
            v.put(name, new double[w.length]);
        }
        SplittableRandom rng = new SplittableRandom(5);
        double[] lrs = {1e-3, 2e-2, 5e-3, 1e-2, 3e-3, 1e-1};
        double[] scales = {1.0, 0.25, 1.0, 0.5, 1.0, 0.8};
        for (int t = 1; t <= lrs.length; t++) {
            Map<String, float[]> g = gradients(rng);
            setGradients(params, g);
            optimizer.step(lrs[t - 1], scales[t - 1]);
            double bc1 = 1 - Math.pow(BETA1, t);
            double bc2 = 1 - Math.pow(BETA2, t);
            for (String name : NAMES) {
                double wd = optimizer.noDecayNames().contains(name) ? 0 : WEIGHT_DECAY;
                double[] pw = p.get(name);
                double[] pm = m.get(name);
                double[] pv = v.get(name);
                float[] gw = g.get(name);
                for (int i = 0; i < pw.length; i++) {
                    double gi = (double) (float) (gw[i] * (float) scales[t - 1]);
                    pw[i] *= 1 - lrs[t - 1] * wd;
                    pm[i] = BETA1 * pm[i] + (1 - BETA1) * gi;
                    pv[i] = BETA2 * pv[i] + (1 - BETA2) * gi * gi;
                    pw[i] -= lrs[t - 1] / bc1 * pm[i] / (Math.sqrt(pv[i]) / Math.sqrt(bc2) + EPS);
                }
                assertClose(pw, params.get(name).getArray().toFloatArray(), name + " after step " + t);
                assertClose(pm, optimizer.firstMoments().get(name).data(), "first moment of " + name);
                assertClose(pv, optimizer.secondMoments().get(name).data(), "second moment of " + name);
                float[] left = params.get(name).getArray().getGradient().toFloatArray();
                assertArrayEquals(new float[left.length], left, "gradient of " + name + " is zeroed");
            }
        }
        assertEquals(lrs.length, optimizer.steps());
        optimizer.close();
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /**
     * Within 1e-6 of the tensor's largest magnitude: float32 rounding of a running average that cancels (gradients
     * of both signs) is small against the terms averaged, not against a result near zero.
     */
    private static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double tolerance = 1e-6 * scale;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance,
                    what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i] + " (tolerance "
                            + tolerance + ")");
        }
    }

    @Test
    void restoredOptimizerContinuesBitIdenticallyToTheUninterruptedOne() {
        Map<String, Parameter> straight = parameters(3);
        AdamW a = new AdamW(straight, WEIGHT_DECAY);
        SplittableRandom rng = new SplittableRandom(9);
        for (int t = 0; t < 3; t++) {
            setGradients(straight, gradients(rng));
            a.step(1e-2, t == 1 ? 0.5 : 1.0);
        }
        Map<String, HostTensor> first = a.firstMoments();
        Map<String, HostTensor> second = a.secondMoments();
        Map<String, float[]> now = new LinkedHashMap<>();
        for (String name : NAMES) {
            now.put(name, straight.get(name).getArray().toFloatArray());
        }
        Map<String, Parameter> resumed = parameters(now);
        AdamW b = new AdamW(resumed, WEIGHT_DECAY);
        b.restore(first, second, a.steps());
        for (int t = 0; t < 2; t++) {
            Map<String, float[]> g = gradients(rng);
            setGradients(straight, g);
            setGradients(resumed, g);
            a.step(5e-3, 0.7);
            b.step(5e-3, 0.7);
        }
        for (String name : NAMES) {
            assertArrayEquals(straight.get(name).getArray().toFloatArray(), resumed.get(name).getArray().toFloatArray(),
                    name);
            assertArrayEquals(a.secondMoments().get(name).data(), b.secondMoments().get(name).data(), name);
        }
        a.close();
        b.close();
    }

    @Test
    void givenGradientsUpdateExactlyAsTheParametersOwnAndLeaveTheirBuffersAlone() {
        Map<String, Parameter> viaBuffers = parameters(4);
        Map<String, Parameter> viaArrays = parameters(4);
        AdamW a = new AdamW(viaBuffers, WEIGHT_DECAY);
        AdamW b = new AdamW(viaArrays, WEIGHT_DECAY);
        SplittableRandom rng = new SplittableRandom(2);
        for (int t = 0; t < 3; t++) {
            Map<String, float[]> g = gradients(rng);
            setGradients(viaBuffers, g);
            a.step(1e-2, t == 2 ? 0.3 : 1.0);
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            for (int i = 0; i < NAMES.length; i++) {
                arrays.put(NAMES[i], manager.create(g.get(NAMES[i]), SHAPES[i]));
            }
            b.step(1e-2, t == 2 ? 0.3 : 1.0, arrays);
        }
        for (String name : NAMES) {
            assertArrayEquals(viaBuffers.get(name).getArray().toFloatArray(), viaArrays.get(name).getArray().toFloatArray(),
                    name);
            float[] untouched = viaArrays.get(name).getArray().getGradient().toFloatArray();
            assertArrayEquals(new float[untouched.length], untouched, "no backward ran into " + name + "'s buffer");
        }
        Map<String, NDArray> missing = new LinkedHashMap<>();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> b.step(1e-2, 1.0, missing));
        assertTrue(e.getMessage().contains("no gradient given for the trained parameter '" + NAMES[0] + "'"),
                e.getMessage());
        assertEquals(3, b.steps(), "a refused step is not counted");
        a.close();
        b.close();
    }
}
