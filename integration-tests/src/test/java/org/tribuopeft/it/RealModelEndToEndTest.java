package org.tribuopeft.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.OnnxTextModel;
import org.tribuopeft.plugin.PeftImport;
import org.tribuopeft.cli.TribuoPeftCli;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole product on the real all-MiniLM-L6-v2 and real IMDB reviews, through the command line a
 * user runs: the documented XML pipeline (method switched by an override) trains and writes its folder;
 * the saved model, its PEFT folder and its ONNX export all predict the same held-out reviews.
 */
class RealModelEndToEndTest {

    static int cli(PrintStream out, String... args) {
        return TribuoPeftCli.run(args, out, out);
    }

    @Test
    void documentedPipelineToEveryArtifactOnTheRealModel(@TempDir Path tmp) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Path run = tmp.resolve("run");
        int code = cli(out, "train", "--config", Path.of("..", "docs", "examples", "imdb-pipeline.xml").toString(),
                "--output", run.toString(), "--@trainer.method", "dora", "--@imdb-train.count", "96",
                "--@imdb-test.count", "48", "--@trainer.epochs", "1", "--@trainer.minSteps", "0",
                "--@trainer.maxLength", "64", "--@trainer.progressSeconds", "0");
        assertEquals(0, code, buf.toString(StandardCharsets.UTF_8));
        JsonNode metrics = new ObjectMapper().readTree(run.resolve("metrics.json").toFile());
        assertEquals(48, metrics.get("test_examples").asInt());
        assertTrue(new ObjectMapper().readTree(run.resolve("adapter/adapter_config.json").toFile()).get("use_dora")
                .asBoolean());

        @SuppressWarnings("unchecked")
        AdapterModel<Label> saved = (AdapterModel<Label>) Model.deserializeFromFile(run.resolve("model.tribuo"));
        AdapterModel<Label> fromPeft = PeftImport.load(run.resolve("adapter"), "all-minilm-l6-v2");
        Path onnx = tmp.resolve("model.onnx");
        assertEquals(0, cli(out, "export-onnx", "--model", run.resolve("model.tribuo").toString(), "--output",
                onnx.toString()), buf.toString(StandardCharsets.UTF_8));

        List<Example<Label>> test = new ArrayList<>();
        new MutableDataset<>(new ImdbDataSource(2024, 3000, 24)).forEach(test::add);
        List<Prediction<Label>> a = saved.predict(test);
        List<Prediction<Label>> b = fromPeft.predict(test);
        List<Prediction<Label>> c;
        try (OnnxTextModel<Label> ort = OnnxTextModel.load(onnx, null, false)) {
            c = ort.predict(test);
        }
        double peftDiff = 0;
        double onnxDiff = 0;
        for (int i = 0; i < test.size(); i++) {
            for (var s : a.get(i).getOutputScores().entrySet()) {
                peftDiff = Math.max(peftDiff, Math.abs(s.getValue().getScore()
                        - b.get(i).getOutputScores().get(s.getKey()).getScore()));
                onnxDiff = Math.max(onnxDiff, Math.abs(s.getValue().getScore()
                        - c.get(i).getOutputScores().get(s.getKey()).getScore()));
            }
        }
        System.out.printf("real MiniLM DoRA: saved vs PEFT-folder import max |score diff| %.2e, vs ONNX Runtime %.2e%n",
                peftDiff, onnxDiff);
        assertEquals(0.0, peftDiff, "the PEFT folder round trip must be exact");
        assertTrue(onnxDiff <= 1e-4, "ONNX Runtime differs by " + onnxDiff);
        assertTrue(Files.size(run.resolve("model.tribuo")) < 2_000_000, "adapter model stores the base by reference");
        saved.close();
        fromPeft.close();
    }
}
