package org.tribuopeft.adapters.quant;

import ai.djl.ndarray.NDArray;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NF4, FP4 and int8 against bitsandbytes' rules: the nearest code by brute force (ties to the lower value), absmax
 * per block, double quantization of the scales, and the engine's dequantization against the host's. The expected
 * constants marked "torch" were printed by torch 2.13 running bitsandbytes' default-backend rules
 * ({@code backends/default/ops.py}: bucketize over float32 midpoints) on the same inputs.
 */
class QuantFormatsTest extends EngineTestBase {
    /** The deterministic input the torch run used: ((i·7919 mod 2001) − 1000) / 1000 in float32. */
    private static HostTensor ramp(int rows, int cols) {
        float[] d = new float[rows * cols];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (((long) i * 7919 % 2001 - 1000) / 1000.0);
        }
        return new HostTensor(new long[] {rows, cols}, d);
    }

    private static HostTensor gaussian(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] d = new float[rows * cols];
        for (int i = 0; i < d.length; i++) {
            // Box-Muller, 0.02 standard deviation like BERT's initialisation
            double u = 1 - rng.nextDouble();
            double v = rng.nextDouble();
            d[i] = (float) (0.02 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return new HostTensor(new long[] {rows, cols}, d);
    }

    /** The rule written out: the code whose value is nearest, a tie going to the smaller value. */
    private static int bruteNearest(CodeTable t, float x) {
        int best = -1;
        for (int c = 0; c < t.size(); c++) {
            if (best < 0) {
                best = c;
                continue;
            }
            float mid = (Math.min(t.value(c), t.value(best)) + Math.max(t.value(c), t.value(best))) / 2f;
            boolean cAbove = t.value(c) > t.value(best);
            // x goes to the upper of the two only when strictly above their midpoint
            if (cAbove ? x > mid : x <= mid && t.value(c) < t.value(best)) {
                best = c;
            }
        }
        return best;
    }

    @Test
    void nearestCodeMatchesTheRuleOnAGridAndOnEveryMidpoint() {
        for (CodeTable t : new CodeTable[] {CodeTable.nf4(), CodeTable.fp4()}) {
            int checked = 0;
            for (int i = -400; i <= 400; i++) {
                float x = i / 400f;
                assertEquals(t.value(bruteNearest(t, x)), t.value(t.nearest(x)), t.name() + " at " + x);
                checked++;
            }
            float[] v = t.values();
            java.util.Arrays.sort(v);
            for (int i = 0; i + 1 < v.length; i++) {
                if (v[i] == v[i + 1]) {
                    continue;
                }
                float mid = (v[i] + v[i + 1]) / 2f;
                assertEquals(v[i], t.value(t.nearest(mid)), t.name() + ": a midpoint takes the lower value");
                assertEquals(v[i + 1], t.value(t.nearest(Math.nextUp(mid))), t.name() + ": just above takes the upper");
                checked += 2;
            }
            assertTrue(checked > 800);
        }
        // NF4 between 0 (code 7) and 0.07958 (code 8): the midpoint 0.03979015 stays at code 7
        assertEquals(7, CodeTable.nf4().nearest(0.03979015f));
        assertEquals(8, CodeTable.nf4().nearest(0.0398f));
        // FP4: zero is code 0 (+0), not 8; 1.0 is code 3 (12/12); -1/3 is code 12
        assertEquals(0, CodeTable.fp4().nearest(0f));
        assertEquals(3, CodeTable.fp4().nearest(1f));
        assertEquals(12, CodeTable.fp4().nearest(-1f / 3f));
        assertEquals(0.0625f / 12f, CodeTable.fp4().value(1));
    }

    @Test
    void dynamicMapEqualsTorchsCreateDynamicMap() {
        CodeTable d = CodeTable.dynamic8();
        assertEquals(256, d.size());
        // torch: values 0, 1, 127, 128, 200, 254, 255
        assertEquals(-0.992968738079071f, d.value(0));
        assertEquals(-0.9789062738418579f, d.value(1));
        assertEquals(0f, d.value(127));
        assertEquals(5.500000384017767e-07f, d.value(128));
        assertEquals(0.23359374701976776f, d.value(200));
        assertEquals(0.992968738079071f, d.value(254));
        assertEquals(1f, d.value(255));
        double sum = 0;
        for (float v : d.values()) {
            sum += v;
        }
        assertEquals(1.0, sum, 1e-9, "torch: the map sums to 1.0 (the +1 entry; the rest cancel)");
    }

    @Test
    void nf4AndFp4CodesAndDoubleQuantizedScalesMatchTorch() {
        HostTensor x = ramp(128, 384);
        QuantizedTensor nf4 = new Nf4Format().quantize(x, 64, true);
        assertEquals(359779, codeSum(nf4), "torch: sum of the NF4 codes");
        assertArrayEquals(new int[] {0, 15, 14, 14, 14, 13, 12, 12, 11, 10, 9, 8, 7, 6, 5, 4}, firstCodes(nf4, 16));
        assertEquals(0.9909479022026062f, nf4.scaleOffset(), "torch: mean of the block absmax");
        int q2sum = 0;
        for (byte b : nf4.scaleCodes()) {
            q2sum += b & 0xFF;
        }
        assertEquals(98890, q2sum, "torch: sum of the 8-bit scale codes");
        assertArrayEquals(new float[] {0.012947916984558105f, 0.012947916984558105f, 0.012947916984558105f},
                nf4.scaleAbsmax());
        double deqSum = 0;
        for (float v : nf4.dequantize().data()) {
            deqSum += v;
        }
        assertEquals(54.86035659909248, deqSum, 1e-9, "torch: sum of the dequantized NF4+DQ weights");

        QuantizedTensor fp4 = new Fp4Format().quantize(x, 64, false);
        assertEquals(379888, codeSum(fp4), "torch: sum of the FP4 codes");
        assertArrayEquals(new int[] {11, 3, 2, 2, 2, 5, 5, 4, 4, 7, 6, 1, 9, 14, 14, 15}, firstCodes(fp4, 16));
    }

    @Test
    void int8RoundsHalfToEvenPerRowAndMatchesTorch() {
        QuantizedTensor q = new Int8RowFormat().quantize(ramp(128, 384), 64, false);
        long sum = 0;
        long abs = 0;
        for (long i = 0; i < q.elementCount(); i++) {
            sum += q.code(i);
            abs += Math.abs(q.code(i));
        }
        assertEquals(145, sum, "torch: sum of the int8 codes");
        assertEquals(3125599, abs, "torch: sum of their magnitudes");
        // absmax 127 makes the factor 1: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2 (half to even), zero row stays 0
        HostTensor halves = new HostTensor(new long[] {2, 5}, new float[] {127f, 0.5f, 1.5f, 2.5f, -2.5f, 0, 0, 0, 0, 0});
        QuantizedTensor h = new Int8RowFormat().quantize(halves, 64, false);
        assertArrayEquals(new int[] {127, 0, 2, 2, -2, 0, 0, 0, 0, 0}, firstCodes(h, 10));
        assertEquals(0f, h.dequantize().data()[7]);
    }

    @Test
    void blocksScaleByTheirAbsmaxAndCodesFollowTheRule() {
        HostTensor w = gaussian(24, 128, 3);
        QuantizedTensor q = new Nf4Format().quantize(w, 64, false);
        float[] scales = q.blockScales();
        float[] d = w.data();
        for (int b = 0; b < q.blockCount(); b++) {
            float m = 0;
            for (int i = b * 64; i < (b + 1) * 64; i++) {
                m = Math.max(m, Math.abs(d[i]));
            }
            assertEquals(m, scales[b]);
            for (int i = b * 64; i < (b + 1) * 64; i++) {
                int expected = bruteNearest(CodeTable.nf4(), Math.max(-1f, Math.min(1f, d[i] * (1f / m))));
                assertEquals(expected, q.code(i), "weight " + i);
            }
        }
    }

    @Test
    void roundTripErrorAgainstFloat32OrdersTheFormats() {
        HostTensor w = gaussian(384, 384, 11);
        double nf4 = rmse(w, new Nf4Format().quantize(w, 64, false).dequantize());
        double nf4dq = rmse(w, new Nf4Format().quantize(w, 64, true).dequantize());
        double fp4 = rmse(w, new Fp4Format().quantize(w, 64, false).dequantize());
        double int8 = rmse(w, new Int8RowFormat().quantize(w, 64, false).dequantize());
        double rms = rmse(w, new HostTensor(w.shape(), new float[w.data().length]));
        // NF4 on normal weights: about a tenth of their RMS; double quantization adds well under 1 %
        assertTrue(nf4 / rms > 0.08 && nf4 / rms < 0.12, "nf4 relative RMSE " + nf4 / rms);
        assertTrue(Math.abs(nf4dq / nf4 - 1) < 0.01, "dq changes the error by " + (nf4dq / nf4 - 1));
        assertTrue(fp4 > nf4 * 1.05, "fp4 " + fp4 + " vs nf4 " + nf4);
        assertTrue(int8 < nf4 / 5, "int8 " + int8 + " vs nf4 " + nf4);
    }

    @Test
    void doubleQuantizationCostsAboutAnEighthOfABitPerWeight() {
        HostTensor w = gaussian(1536, 384, 5);
        QuantizedTensor plain = new Nf4Format().quantize(w, 64, false);
        QuantizedTensor dq = new Nf4Format().quantize(w, 64, true);
        double n = w.data().length;
        assertEquals(0.5, plain.scaleBytes() * 8 / n, 1e-12);
        // 8 bits per 64 weights, plus a float32 per 256 blocks and the offset
        assertEquals((9216 + 4 * 36 + 4) * 8 / n, dq.scaleBytes() * 8 / n, 1e-12);
        assertEquals(0.127, dq.scaleBytes() * 8 / n, 0.001);
        assertEquals(n / 2, plain.codeBytes());
    }

    @Test
    void engineDequantizationEqualsTheHostsBitForBit() {
        HostTensor w = gaussian(96, 384, 7);
        for (BaseQuantization s : new BaseQuantization[] {new BaseQuantization("nf4", 64, false),
                new BaseQuantization("nf4", 128, true), new BaseQuantization("fp4", 32, true),
                new BaseQuantization("int8", 64, false)}) {
            BaseQuantizer quantizer = s.quantizer();
            QuantizedWeight q = quantizer.quantize(w, manager);
            NDArray deq = q.dequantize();
            float[] engine = deq.toFloatArray();
            float[] host = quantizer.quantizeOnHost(w).dequantize().data();
            assertArrayEquals(host, engine, s.toString());
            assertEquals(96, deq.getShape().get(0));
        }
    }

    @Test
    void badSettingsAreRefusedByName() {
        PropertyException type = assertThrows(PropertyException.class, () -> new BaseQuantization("nf3", 64, false));
        assertTrue(type.getMessage().contains("'nf3'") && type.getMessage().contains("[nf4, fp4, int8]"),
                type.getMessage());
        PropertyException block = assertThrows(PropertyException.class, () -> new BaseQuantization("nf4", 48, false));
        assertEquals("blockSize", block.getProperty());
        PropertyException dq = assertThrows(PropertyException.class, () -> new BaseQuantization("int8", 64, true));
        assertEquals("doubleQuant", dq.getProperty());
        IllegalArgumentException fit = assertThrows(IllegalArgumentException.class,
                () -> new BaseQuantization("nf4", 256, true).checkFits("all-minilm-l6-v2", 384, 1536));
        assertTrue(fit.getMessage().contains("blockSize 256 does not divide the input width 384")
                && fit.getMessage().contains("[32, 64, 128]"), fit.getMessage());
    }

    private static int codeSum(QuantizedTensor q) {
        int s = 0;
        for (long i = 0; i < q.elementCount(); i++) {
            s += q.code(i);
        }
        return s;
    }

    private static int[] firstCodes(QuantizedTensor q, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = q.code(i);
        }
        return out;
    }

    private static double rmse(HostTensor a, HostTensor b) {
        double s = 0;
        for (int i = 0; i < a.data().length; i++) {
            double e = a.data()[i] - b.data()[i];
            s += e * e;
        }
        return Math.sqrt(s / a.data().length);
    }
}
