package org.tribuopeft.adapters.export;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.tensor.HostTensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MatMulNBits packing: weights built from known codes, zero points and power-of-two scales (so every
 * step is exact in float32) quantize back to exactly those codes, laid out byte by byte as ONNX
 * Runtime's operator reads them, and dequantize to exactly the weights.
 */
class BlockQuantizedWeightTest {

    /** The code of weight [n, k]: within every aligned run of 16 inputs, k·7 mod 16 takes all 16 values. */
    static int code4(int n, int k) {
        return (k * 7 + n * 3) % 16;
    }

    static int zero4(int n, int b) {
        return (n * 5 + b * 3) % 16;
    }

    static float scale(int n, int b) {
        return (float) Math.scalb(1.0, -(4 + (n + b) % 3));
    }

    @Test
    void oneBlockOfSixteenPacksToHandComputedNibbles() {
        // w_i = (i − 5)·0.125: range [−0.625, 1.25] = 15 steps of 0.125, zero point 5, codes 0..15 in order
        float[] w = new float[16];
        for (int i = 0; i < 16; i++) {
            w[i] = (i - 5) * 0.125f;
        }
        BlockQuantizedWeight q = BlockQuantizedWeight.quantize(new HostTensor(new long[] {1, 16}, w),
                WeightFormat.quantized(4, 16), "m");
        assertArrayEquals(new byte[] {0x10, 0x32, 0x54, 0x76, (byte) 0x98, (byte) 0xBA, (byte) 0xDC, (byte) 0xFE},
                q.packed());
        assertArrayEquals(new float[] {0.125f}, q.scales());
        assertArrayEquals(new byte[] {0x05}, q.zeroPoints());
        assertArrayEquals(w, q.dequantize().data());
    }

    @Test
    void fourBitCodesZeroPointsAndScalesRoundTripExactlyForSevenHundredWeights() {
        int n = 12;
        int k = 64;
        int bs = 16;
        int blocks = k / bs;
        float[] w = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                w[r * k + c] = (code4(r, c) - zero4(r, c / bs)) * scale(r, c / bs);
            }
        }
        BlockQuantizedWeight q = BlockQuantizedWeight.quantize(new HostTensor(new long[] {n, k}, w),
                WeightFormat.quantized(4, bs), "m");
        assertEquals(n * blocks * 8, q.packed().length);
        assertEquals(n * blocks, q.scales().length);
        assertEquals(n * 2, q.zeroPoints().length);
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < blocks; b++) {
                assertEquals(scale(r, b), q.scales()[r * blocks + b], "scale " + r + "," + b);
                // zero points: 4 blocks per row in 2 bytes, even block in the low nibble
                int zpByte = q.zeroPoints()[r * 2 + b / 2] & 0xFF;
                assertEquals(zero4(r, b), b % 2 == 0 ? zpByte & 0xF : zpByte >> 4, "zero point " + r + "," + b);
                for (int j = 0; j < bs / 2; j++) {
                    int c = b * bs + 2 * j;
                    int expected = code4(r, c) | code4(r, c + 1) << 4;
                    assertEquals(expected, q.packed()[(r * blocks + b) * 8 + j] & 0xFF, "byte " + r + "," + b + "," + j);
                }
            }
        }
        assertArrayEquals(w, q.dequantize().data());
    }

    @Test
    void eightBitCodesRoundTripExactlyOneBytePerWeight() {
        int n = 6;
        int k = 64;
        int bs = 32;
        int blocks = k / bs;
        int[][] codes = new int[n][k];
        float[] w = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                // each block holds the extreme codes 0 and 255, so its range is exactly 255 steps
                int inBlock = c % bs;
                codes[r][c] = inBlock == 0 ? 0 : inBlock == 1 ? 255 : (c * 37 + r * 11) % 256;
                int zero = 100 + 20 * r + c / bs;
                w[r * k + c] = (codes[r][c] - zero) * scale(r, c / bs);
            }
        }
        BlockQuantizedWeight q = BlockQuantizedWeight.quantize(new HostTensor(new long[] {n, k}, w),
                WeightFormat.quantized(8, bs), "m");
        for (int r = 0; r < n; r++) {
            for (int b = 0; b < blocks; b++) {
                assertEquals(100 + 20 * r + b, q.zeroPoints()[r * blocks + b] & 0xFF);
                assertEquals(scale(r, b), q.scales()[r * blocks + b]);
            }
            for (int c = 0; c < k; c++) {
                assertEquals(codes[r][c], q.packed()[r * k + c] & 0xFF, "code " + r + "," + c);
            }
        }
        assertArrayEquals(w, q.dequantize().data());
    }

    @Test
    void symmetricFourBitHasNoZeroPointsAndCentresCodesOnEight() {
        int n = 4;
        int k = 32;
        float[] w = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                // codes 1..15 (value −7..7); code 15 (value 7) in every block fixes max |w| = 7·scale
                int value = c % 16 == 0 ? 7 : (c * 5 + r) % 15 - 7;
                w[r * k + c] = value * scale(r, c / 16);
            }
        }
        BlockQuantizedWeight q = BlockQuantizedWeight.quantize(new HostTensor(new long[] {n, k}, w),
                new WeightFormat(4, 16, false, false), "m");
        assertNull(q.zeroPoints());
        assertEquals(8, q.zeroPoint(3, 1));
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                int value = c % 16 == 0 ? 7 : (c * 5 + r) % 15 - 7;
                assertEquals(value + 8, q.code(r, c));
            }
        }
        assertArrayEquals(w, q.dequantize().data());
    }

    @Test
    void roundingErrorIsAtMostHalfAStepPerBlock() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
        float[] w = new float[8 * 128];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rng.nextGaussian() * 0.05f;
        }
        HostTensor t = new HostTensor(new long[] {8, 128}, w);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.quantized(4, 32), WeightFormat.quantized(8, 64),
            new WeightFormat(4, 128, false, false)}) {
            BlockQuantizedWeight q = BlockQuantizedWeight.quantize(t, f, "m");
            float[] d = q.dequantize().data();
            for (int i = 0; i < w.length; i++) {
                float step = q.scale(i / 128, (i % 128) / f.blockSize());
                assertTrue(Math.abs(d[i] - w[i]) <= step * 0.5f * (1 + 1e-5f), f + " weight " + i);
            }
        }
    }

    @Test
    void aBlockOfZerosStaysZero() {
        BlockQuantizedWeight q = BlockQuantizedWeight.quantize(new HostTensor(new long[] {2, 16}, new float[32]),
                WeightFormat.quantized(4, 16), "m");
        assertArrayEquals(new float[32], q.dequantize().data());
    }

    @Test
    void aBlockSizeThatDoesNotDivideTheInputWidthIsRefusedNamingTheModule() {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> BlockQuantizedWeight.quantize(
                new HostTensor(new long[] {2, 48}, new float[96]), WeightFormat.quantized(4, 32),
                "encoder.layer.0.attention.self.query"));
        assertEquals("block size 32 does not suit encoder.layer.0.attention.self.query: its input width 48 is not a "
                + "multiple of 32; choose a block size that divides 48", e.getMessage());
    }
}
