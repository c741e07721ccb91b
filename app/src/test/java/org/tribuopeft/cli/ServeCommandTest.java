package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code serve} command's help and its refusals of bad options, before any model is loaded. */
class ServeCommandTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TribuoPeftCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpDescribesServe() {
        Run r = run("serve", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("serve     --adapters DIR[,DIR...] [--base NAME|FOLDER|FILE.onnx]"), r.out());
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption(@TempDir Path dir) throws Exception {
        Run batching = run("serve", "--adapters", dir.toString(), "--batching", "sometimes");
        assertEquals(2, batching.code());
        assertTrue(batching.err().contains("--batching must be mixed, per-adapter or merged, got 'sometimes'"),
                batching.err());
        Run port = run("serve", "--adapters", dir.toString(), "--port", "eighty");
        assertEquals(2, port.code());
        assertTrue(port.err().contains("--port must be a whole number, got 'eighty'"), port.err());
        Path empty = Files.writeString(dir.resolve("token"), "  \n");
        Run token = run("serve", "--adapters", dir.toString(), "--token-file", empty.toString());
        assertEquals(2, token.code());
        assertTrue(token.err().contains("is empty; put the bearer token in it"), token.err());
        Run cache = run("serve", "--adapters", dir.toString(), "--cache-bytes", "0");
        assertEquals(2, cache.code());
        assertTrue(cache.err().contains("--cache-bytes must be positive, got 0"), cache.err());
    }

    @Test
    void aMissingAdapterFolderFailsNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere");
        Run r = run("serve", "--adapters", missing.toString(), "--base", "all-minilm-l6-v2", "--port", "0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("adapter folder '" + missing + "' does not exist"), r.err());
    }
}
