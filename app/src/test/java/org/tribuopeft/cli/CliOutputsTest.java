package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.impl.ArrayExample;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.tribuopeft.cli.TribuoPeftCliTest.cli;

/** Output locations are checked before any work, never lose a user's files, and input errors name the line. */
class CliOutputsTest {

    static String[] trainArgs(Path output, String... more) throws Exception {
        Path config = Paths.get(CliOutputsTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        String[] base = {"train", "--output", output.toString(), "--config", config.toString(),
            "--@trainer.backbone", "/no/backbone/needed/before/training", "--@csv.dataPath", "/no/data.csv"};
        return TribuoPeftCliTest.concat(base, more);
    }

    @Test
    void trainRefusesAFileWhereTheOutputFolderGoesBeforeTraining(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("run"), "my data");
        long start = System.nanoTime();
        TribuoPeftCliTest.Run r = cli(trainArgs(file));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, r.code(), r.err());
        assertEquals("error: " + file.toAbsolutePath() + ": is a file, not a folder; choose a folder path for this "
                + "output\n", r.err());
        assertFalse(r.out().contains("training"), r.out());
        assertTrue(seconds < 5, "refused in " + seconds + " s");
        assertEquals("my data", Files.readString(file));
    }

    @Test
    void trainRefusesAnOutputBelowAFileBeforeTraining(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "x");
        TribuoPeftCliTest.Run r = cli(trainArgs(file.resolve("run")));
        assertEquals(1, r.code(), r.err());
        assertEquals("error: " + file.resolve("run").toAbsolutePath() + ": " + file.toAbsolutePath()
                + " is a file, so no folder can be made inside it; choose another path\n", r.err());
        assertFalse(r.out().contains("training"), r.out());
    }

    @Test
    void trainRefusesAFolderHoldingOtherFilesBeforeTrainingAndKeepsThem(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("project"));
        Files.writeString(dir.resolve("thesis.tex"), "years of work");
        TribuoPeftCliTest.Run r = cli(trainArgs(dir));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: " + dir.toAbsolutePath() + ": already holds files tribuo-peft did not "
                + "write (thesis.tex); choose a new or empty folder, or allow overwriting (--overwrite"), r.err());
        assertFalse(r.out().contains("training"), r.out());
        assertEquals("years of work", Files.readString(dir.resolve("thesis.tex")));
    }

    @Test
    void trainWithOverwriteStillRefusesAUsersFileWhereItsOutputGoes(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("project"));
        Files.writeString(dir.resolve("model.tribuo"), "someone else's model");
        TribuoPeftCliTest.Run r = cli(trainArgs(dir, "--overwrite"));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("holds files that tribuo-peft did not write where its output goes (model.tribuo); "
                + "they are not deleted even with --overwrite"), r.err());
        assertEquals("someone else's model", Files.readString(dir.resolve("model.tribuo")));
    }

    @Test
    void trainRefusesAReadOnlyParentBeforeTraining(@TempDir Path tmp) throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root can write into read-only folders");
        Path parent = Files.createDirectory(tmp.resolve("locked"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            TribuoPeftCliTest.Run r = cli(trainArgs(parent.resolve("run")));
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().contains(": cannot write in " + parent.toAbsolutePath()), r.err());
            assertFalse(r.out().contains("training"), r.out());
        } finally {
            Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void trainRefusesAFolderOnAFileSystemItCannotWriteBeforeTraining() throws Exception {
        Path proc = Paths.get("/proc");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(proc.resolve("self")), "needs Linux /proc");
        TribuoPeftCliTest.Run r = cli(trainArgs(proc.resolve("tribuo-peft-run")));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: /proc/tribuo-peft-run: cannot write in /proc ("), r.err());
        assertTrue(r.err().endsWith("); choose a folder you can write to\n"), r.err());
        assertFalse(r.out().contains("training"), r.out());
    }

    @Test
    void predictRefusesToReplaceAnExistingOutputFileBeforeLoadingTheModel(@TempDir Path tmp) throws Exception {
        Path existing = Files.writeString(tmp.resolve("results.jsonl"), "earlier results");
        Path input = Files.writeString(tmp.resolve("in.txt"), "good\n");
        TribuoPeftCliTest.Run r = cli("predict", "--model", tmp.resolve("absent.tribuo").toString(), "--input",
                input.toString(), "--output", existing.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("error: " + existing.toAbsolutePath() + ": already exists and is not replaced without "
                + "permission; choose another file name, or allow overwriting (--overwrite on the command line)\n",
                r.err());
        assertEquals("earlier results", Files.readString(existing));
    }

    @Test
    void exportOnnxRefusesToReplaceAnExistingFileBeforeExporting(@TempDir Path tmp) throws Exception {
        Path existing = Files.writeString(tmp.resolve("model.onnx"), "my onnx");
        TribuoPeftCliTest.Run r = cli("export-onnx", "--model", tmp.resolve("absent.tribuo").toString(), "--output",
                existing.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: " + existing.toAbsolutePath() + ": already exists"), r.err());
        assertEquals("my onnx", Files.readString(existing));
    }

    @Test
    void exportOnnxRefusesAnUnsupportedBlockSizeByValueBeforeLoadingTheModel(@TempDir Path tmp) throws Exception {
        Path onnx = tmp.resolve("model.onnx");
        TribuoPeftCliTest.Run r = cli("export-onnx", "--model", tmp.resolve("absent.tribuo").toString(), "--output",
                onnx.toString(), "--weight-format", "int4:48");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: --weight-format: block size 48 is not supported by ONNX Runtime's "
                + "MatMulNBits: use a power of two from 16 to 256 (16, 32, 64, 128 or 256)\n"), r.err());
        assertFalse(Files.exists(onnx));
    }

    @Test
    void exportOnnxRefusesQuantizedWeightsForTheBaseWithAdapterInputs(@TempDir Path tmp) throws Exception {
        TribuoPeftCliTest.Run r = cli("export-onnx", "--model", tmp.resolve("absent.tribuo").toString(), "--output",
                tmp.resolve("base.onnx").toString(), "--adapter-output", tmp.resolve("a.onnx_adapter").toString(),
                "--weight-format", "int8");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("error: --weight-format int8:32 is for merged exports only"), r.err());
        assertFalse(Files.exists(tmp.resolve("base.onnx")));
    }

    @Test
    void predictNamesTheLineByteAndOffsetOfANonUtf8InputBeforeLoadingTheModel(@TempDir Path tmp) throws Exception {
        Path input = tmp.resolve("latin1.txt");
        Files.write(input, "good film\ncaf\u00e9 cr\u00e8me\n".getBytes(StandardCharsets.ISO_8859_1));
        TribuoPeftCliTest.Run r = cli("predict", "--model", tmp.resolve("absent.tribuo").toString(), "--input",
                input.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("error: " + input + " line 2: byte 0xE9 at byte offset 13 of the file is not UTF-8; input files "
                + "must be UTF-8 text: convert it, e.g. with 'iconv -f ISO-8859-1 -t UTF-8' for a Latin-1 file\n",
                r.err());
    }

    @Test
    void utf8LinesAcceptsABomAndWindowsLineEnds(@TempDir Path tmp) throws Exception {
        Path input = tmp.resolve("bom.txt");
        Files.write(input, "\ufeffcaf\u00e9\r\n\r\nlast".getBytes(StandardCharsets.UTF_8));
        assertEquals(java.util.List.of("caf\u00e9", "", "last"), Utf8Lines.read(input));
    }

    private static Prediction<Label> labelPrediction(double neg, double pos) {
        Example<Label> e = new ArrayExample<>(new Label("NEG"));
        Map<String, Label> scores = new LinkedHashMap<>();
        scores.put("NEG", new Label("NEG", neg));
        scores.put("POS", new Label("POS", pos));
        return new Prediction<>(new Label("POS", pos), scores, 1, e, true);
    }

    @Test
    void labelScoresAreJsonNumbers() {
        assertEquals("{\"text\":\"t\",\"prediction\":\"POS\",\"scores\":{\"NEG\":0.25,\"POS\":0.75}}",
                PredictionJson.of(labelPrediction(0.25, 0.75), "t", "line 1 of in.txt").toString());
    }

    @Test
    void aNanScoreIsRefusedNamingTheLineAndTheLabel() {
        NonFiniteScoreException e = assertThrows(NonFiniteScoreException.class,
                () -> PredictionJson.of(labelPrediction(Double.NaN, Double.NaN), "t", "line 3 of in.txt"));
        assertEquals("the model gave the score NaN for 'NEG' on line 3 of in.txt: its weights are not finite numbers "
                + "(training diverged, e.g. a learning rate too high), so none of its predictions can be trusted; "
                + "retrain it (lower the learning rate) and check its evaluation", e.getMessage());
    }
}
