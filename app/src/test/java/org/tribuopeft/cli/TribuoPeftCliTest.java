package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line tool end to end on the tiny backbone: train writes its folder, predict and evaluate read it. */
class TribuoPeftCliTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TribuoPeftCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void trainWritesModelAdapterProvenanceAndMetricsThenPredictAndEvaluateUseThem(@TempDir Path tmp) throws Exception {
        Path config = Paths.get(TribuoPeftCliTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        StringBuilder csv = new StringBuilder("text,label\n");
        for (LabelledText t : SyntheticTexts.twoClass(40, 4)) {
            csv.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? "pos" : "neg").append('\n');
        }
        Path data = Files.writeString(tmp.resolve("texts.csv"), csv.toString());
        Path outDir = tmp.resolve("run");
        String[] common = {"--config", config.toString(), "--@trainer.backbone", TinyBert.folder(21).toString(),
            "--@csv.dataPath", data.toString()};
        Run train = cli(concat(new String[] {"train", "--output", outDir.toString(), "--@trainer.method", "dora"},
                common));
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("accuracy"), train.out());
        for (String f : List.of("model.tribuo", "provenance.json", "metrics.json", "adapter/adapter_config.json",
                "adapter/adapter_model.safetensors", "adapter/tribuo_peft.json")) {
            assertTrue(Files.exists(outDir.resolve(f)), f + " missing");
        }
        JsonNode metrics = JSON.readTree(outDir.resolve("metrics.json").toFile());
        assertEquals(10, metrics.get("test_examples").asInt());
        assertTrue(metrics.get("test").has("macro_f1"));
        assertTrue(JSON.readTree(outDir.resolve("adapter/adapter_config.json").toFile()).get("use_dora").asBoolean());
        String fileMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createFile(tmp.resolve("f"))));
        String dirMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("d"))));
        assertEquals(dirMode, PosixFilePermissions.toString(Files.getPosixFilePermissions(outDir)));
        assertEquals(fileMode, PosixFilePermissions.toString(Files.getPosixFilePermissions(outDir.resolve("model.tribuo"))));
        Run again = cli(concat(new String[] {"train", "--output", outDir.toString()}, common));
        assertEquals(0, again.code(), "a run folder we wrote is replaced without --overwrite: " + again.err());

        Path input = Files.writeString(tmp.resolve("in.txt"), "good great fine\n{\"text\": \"bad awful\"}\n");
        Run predict = cli("predict", "--model", outDir.resolve("model.tribuo").toString(), "--input", input.toString());
        assertEquals(0, predict.code(), predict.err());
        String[] lines = predict.out().trim().split("\n");
        assertEquals(2, lines.length);
        JsonNode first = JSON.readTree(lines[0]);
        assertEquals("good great fine", first.get("text").asText());
        assertTrue(first.get("scores").get("POS").isNumber() && first.get("scores").get("NEG").isNumber(), lines[0]);
        assertEquals(1.0, first.get("scores").get("POS").asDouble() + first.get("scores").get("NEG").asDouble(), 1e-6);

        Run evaluate = cli(concat(new String[] {"evaluate", "--model", outDir.resolve("model.tribuo").toString()}, common));
        assertEquals(0, evaluate.code(), evaluate.err());
        assertTrue(evaluate.out().contains("evaluation on 10 held-out examples"), evaluate.out());
    }

    @Test
    void usageErrorsExitWithTwoAndSayWhatIsWrong() {
        Run r = cli("train");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("needs --config"), r.err());
        r = cli("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'frobnicate'"), r.err());
        r = cli("predict", "--model", "nope.tribuo", "--input", "x.txt", "--colour", "blue");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown option --colour"), r.err());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
