package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qlora-benchmark} refuses an unknown part or storage, or a missing model file, by name before loading anything. */
class QLoraBenchmarkCliTest {
    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TribuoPeftCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(code), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void anUnknownPartOrStorageIsRefusedByName() {
        String[] part = run("qlora-benchmark", "--part", "speed");
        assertEquals("2", part[0]);
        assertTrue(part[1].startsWith("error: --part must be memory, fidelity, imdb, load, float32-base or "
                + "peft-export, found 'speed'"), part[1]);
        String[] storage = run("qlora-benchmark", "--part", "imdb", "--storage", "fp8");
        assertEquals("2", storage[0]);
        assertTrue(storage[1].startsWith("error: --storage must be one of [float32, int8, nf4, nf4+dq], found 'fp8'"),
                storage[1]);
        assertTrue(TribuoPeftCli.usage().contains(
                "qlora-benchmark [--part memory|fidelity|imdb|load|float32-base|peft-export]"));
        String[] model = run("qlora-benchmark", "--part", "float32-base");
        assertEquals("2", model[0]);
        assertTrue(model[1].startsWith("error: --model is required here"), model[1]);
    }
}
