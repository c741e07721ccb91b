package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DropoutMasksTest {
    @Test
    void drawKIsTheKthOutputOfSplittableRandomWithTheSameSeed() {
        // SplittableRandom(seed).nextLong() is mix64(seed + (k + 1)·γ): an independent implementation of the draws
        long seed = -7_123_456_789L;
        long threshold = DropoutMasks.threshold(0.3);
        SplittableRandom reference = new SplittableRandom(seed);
        for (int k = 0; k < 1000; k++) {
            long draw = reference.nextLong();
            assertEquals((draw >>> 32) < threshold, DropoutMasks.kept(seed, threshold, 2L * k), "element " + 2 * k);
            assertEquals((draw & 0xFFFFFFFFL) < threshold, DropoutMasks.kept(seed, threshold, 2L * k + 1),
                    "element " + (2 * k + 1));
        }
    }

    @Test
    void parallelFillOfAnOddLengthMatchesTheDefinitionElementByElement() {
        // long enough for several parallel chunks, odd so the tail after the last whole word is drawn one by one
        int n = 8 * (1 << 15) * 3 + 13;
        long seed = 42;
        long threshold = DropoutMasks.threshold(0.1);
        ByteBuffer out = ByteBuffer.allocateDirect(n + 3);
        out.put(n, (byte) 7);
        DropoutMasks.fill(out, n, threshold, seed);
        for (int i = 0; i < n; i++) {
            assertEquals(DropoutMasks.kept(seed, threshold, i) ? 1 : 0, out.get(i), "element " + i);
        }
        assertEquals(7, out.get(n), "nothing is written past the mask");
    }

    @Test
    void masksKeepEachElementAtTheRateAndTheTwoElementsOfADrawIndependently() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Shape shape = new Shape(11, 101, 91);
            int n = (int) shape.size();
            for (double p : new double[] {0.1, 0.5, 0.9}) {
                byte[] mask;
                try (NDArray kept = DropoutMasks.keepMask(m, shape, p, 3)) {
                    assertEquals(shape, kept.getShape());
                    assertEquals(DataType.UINT8, kept.getDataType());
                    mask = kept.toByteArray();
                }
                int evenDrops = 0;
                int oddDrops = 0;
                int agree = 0;
                for (int i = 0; i + 1 < n; i += 2) {
                    evenDrops += mask[i] == 0 ? 1 : 0;
                    oddDrops += mask[i + 1] == 0 ? 1 : 0;
                    agree += mask[i] == mask[i + 1] ? 1 : 0;
                }
                int pairs = n / 2;
                double sd = Math.sqrt(pairs * p * (1 - p));
                assertEquals(pairs * p, evenDrops, 5 * sd, "high words, p " + p);
                assertEquals(pairs * p, oddDrops, 5 * sd, "low words, p " + p);
                double same = p * p + (1 - p) * (1 - p);
                assertEquals(pairs * same, agree, 5 * Math.sqrt(pairs * same * (1 - same)),
                        "the two elements of a draw agree as often as independent ones, p " + p);
            }
        }
    }

    @Test
    void aMaskDependsOnlyOnItsSeed() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            Shape shape = new Shape(3, 1001);
            byte[] first;
            try (NDArray a = DropoutMasks.keepMask(m, shape, 0.2, 99)) {
                first = a.toByteArray();
            }
            // another mask in between reuses this thread's buffer; the same seed still draws the same mask
            try (NDArray other = DropoutMasks.keepMask(m, new Shape(5000), 0.2, 100)) {
                assertFalse(java.util.Arrays.equals(first, java.util.Arrays.copyOf(other.toByteArray(), first.length)));
            }
            try (NDArray again = DropoutMasks.keepMask(m, shape, 0.2, 99)) {
                assertArrayEquals(first, again.toByteArray());
            }
        }
    }

    @Test
    void ratesOutsideZeroToOneAreRefusedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DropoutMasks.threshold(1.0));
        assertEquals("dropout probability must be in [0, 1), got 1.0", e.getMessage());
        assertEquals(1L << 32, DropoutMasks.threshold(0.0));
        assertEquals(Math.round(0.75 * 4294967296.0), DropoutMasks.threshold(0.25));
    }
}
