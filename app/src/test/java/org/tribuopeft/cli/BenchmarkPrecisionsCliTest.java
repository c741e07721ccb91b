package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code benchmark --precisions}: the accuracy check of mixed precision trains each method once per precision on the
 * same IMDB slice with the same seed and prints one row each.
 */
class BenchmarkPrecisionsCliTest {

    @Test
    void oneRowPerMethodAndPrecisionOnTheSameSlice() {
        TribuoPeftCliTest.Run r = TribuoPeftCliTest.cli("benchmark", "--methods", "lora", "--precisions",
                "float32,bfloat16", "--train", "16", "--test", "8", "--epochs", "1", "--batch-size", "16");
        assertEquals(0, r.code(), r.out() + r.err());
        String last = r.out().substring(r.out().lastIndexOf("IMDB, all-MiniLM-L6-v2, 16 train / 8 held-out reviews"));
        List<String> rows = last.lines().filter(l -> l.startsWith("| lora |")).toList();
        assertEquals(2, rows.size(), last);
        assertTrue(rows.get(0).startsWith("| lora | float32 | 1e-03 | "), rows.get(0));
        assertTrue(rows.get(1).startsWith("| lora | bfloat16 | 1e-03 | "), rows.get(1));
        assertTrue(r.out().contains("[benchmark] training lora in bfloat16 ..."), r.out());
    }

    @Test
    void anUnknownPrecisionIsAUsageError() {
        TribuoPeftCliTest.Run r = TribuoPeftCliTest.cli("benchmark", "--precisions", "float32,half");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--precisions takes float32 and/or bfloat16 (comma-separated), got 'half'"),
                r.err());
    }
}
