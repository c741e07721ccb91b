package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.cli.RunOutputException;
import org.tribuopeft.cli.RunOutputs;
import org.tribuopeft.cli.TribuoPeftCli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the command line writes from trained models: numeric predictions for each output type, and exports that keep a user's files. */
class CliModelOutputsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEXTS = "good great fine\n{\"text\": \"bad awful\"}\n\nnice lovely\n";

    @TempDir
    static Path models;
    static AdapterModel<Label> labels;
    static Path labelFile;
    static AdapterModel<Regressor> regression;
    static Path regressionFile;
    static AdapterModel<MultiLabel> multiLabels;
    static Path multiLabelFile;

    @BeforeAll
    static void train() throws IOException {
        LoraConfig lora = new LoraConfig(4, 8, 0.1, List.of("query", "value"));
        labels = AdapterModelSerializationTest.<Label>trainer(lora).train(TinyDatasets.labels(24, 1));
        labelFile = save(labels, "labels.tribuo");
        regression = AdapterModelSerializationTest.<Regressor>trainer(lora).train(TinyDatasets.regression(24, 1));
        regressionFile = save(regression, "regression.tribuo");
        multiLabels = AdapterModelSerializationTest.<MultiLabel>trainer(lora).train(TinyDatasets.multiLabels(24, 1));
        multiLabelFile = save(multiLabels, "multilabel.tribuo");
    }

    private static Path save(Model<?> model, String name) throws IOException {
        Path file = models.resolve(name);
        try (var out = Files.newOutputStream(file)) {
            model.serialize().writeTo(out);
        }
        return file;
    }

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TribuoPeftCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs predict on {@link #TEXTS} into a file and returns the JSON lines and the model's own predictions. */
    private static List<JsonNode> predict(Path tmp, Path modelFile) throws IOException {
        Path input = Files.writeString(tmp.resolve("in.txt"), TEXTS);
        Path output = tmp.resolve("predictions.jsonl");
        Run r = cli("predict", "--model", modelFile.toString(), "--input", input.toString(), "--output", output.toString());
        assertEquals(0, r.code(), r.err());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(output)) {
            lines.add(JSON.readTree(line));
        }
        assertEquals(3, lines.size());
        return lines;
    }

    private static <T extends org.tribuo.Output<T>> List<Prediction<T>> direct(Model<T> model) {
        return model.predict(texts(model));
    }

    private static <T extends org.tribuo.Output<T>> List<org.tribuo.Example<T>> texts(Model<T> model) {
        T any = model.getOutputIDInfo().getDomain().iterator().next();
        List<org.tribuo.Example<T>> out = new ArrayList<>();
        for (String t : List.of("good great fine", "bad awful", "nice lovely")) {
            org.tribuo.impl.ArrayExample<T> e = new org.tribuo.impl.ArrayExample<>(any, Map.of("text", t));
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            out.add(e);
        }
        return out;
    }

    @Test
    void labelScoresAreTheModelsProbabilitiesAsJsonNumbers(@TempDir Path tmp) throws IOException {
        List<JsonNode> lines = predict(tmp, labelFile);
        List<Prediction<Label>> expected = direct(labels);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode scores = lines.get(i).get("scores");
            assertEquals(List.of("neg", "pos"), names(scores));
            double sum = 0;
            for (Map.Entry<String, Label> e : expected.get(i).getOutputScores().entrySet()) {
                assertTrue(scores.get(e.getKey()).isNumber(), scores.toString());
                assertEquals(e.getValue().getScore(), scores.get(e.getKey()).asDouble(), 0.0);
                sum += scores.get(e.getKey()).asDouble();
            }
            assertEquals(1.0, sum, 1e-6);
            assertEquals(expected.get(i).getOutput().getLabel(), lines.get(i).get("prediction").asText());
        }
        assertEquals("bad awful", lines.get(1).get("text").asText());
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createFile(tmp.resolve("ref")))),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("predictions.jsonl"))));
    }

    @Test
    void regressionPredictionsAreValuesByDimensionName(@TempDir Path tmp) throws IOException {
        List<JsonNode> lines = predict(tmp, regressionFile);
        List<Prediction<Regressor>> expected = direct(regression);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode prediction = lines.get(i).get("prediction");
            assertEquals(List.of("length", "score"), names(prediction));
            Regressor r = expected.get(i).getOutput();
            for (int d = 0; d < r.size(); d++) {
                assertTrue(prediction.get(r.getNames()[d]).isNumber(), prediction.toString());
                assertEquals(r.getValues()[d], prediction.get(r.getNames()[d]).asDouble(), 0.0);
            }
            assertEquals(prediction, lines.get(i).get("scores"));
        }
    }

    @Test
    void multiLabelPredictionsAreTheLabelSetAndPerLabelProbabilities(@TempDir Path tmp) throws IOException {
        List<JsonNode> lines = predict(tmp, multiLabelFile);
        List<Prediction<MultiLabel>> expected = direct(multiLabels);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode scores = lines.get(i).get("scores");
            assertEquals(List.of("bright", "neg", "pos"), names(scores));
            List<String> above = new ArrayList<>();
            for (String name : names(scores)) {
                double p = scores.get(name).asDouble();
                assertTrue(scores.get(name).isNumber() && p >= 0 && p <= 1, scores.toString());
                assertEquals(expected.get(i).getOutputScores().get(name).getLabelScore(new Label(name)).getAsDouble(),
                        p, 0.0);
                if (p > 0.5) {
                    above.add(name);
                }
            }
            List<String> predicted = new ArrayList<>();
            lines.get(i).get("prediction").forEach(n -> predicted.add(n.asText()));
            assertEquals(above, predicted);
            assertEquals(new java.util.TreeSet<>(expected.get(i).getOutput().getNameSet()).stream().toList(), predicted);
        }
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        Iterator<String> it = object.fieldNames();
        it.forEachRemaining(out::add);
        out.sort(null);
        return out;
    }

    @Test
    void aJsonInputLineWithoutTheTextFieldOrWithBadJsonIsNamed(@TempDir Path tmp) throws IOException {
        Path input = Files.writeString(tmp.resolve("in.jsonl"), "{\"text\": \"fine\"}\n{\"txt\": \"typo\"}\n");
        Run missing = cli("predict", "--model", labelFile.toString(), "--input", input.toString());
        assertEquals(1, missing.code(), missing.err());
        assertEquals("error: " + input + " line 2: has no \"text\" field; the model reads its text from \"text\"\n",
                missing.err());
        Files.writeString(input, "plain text\n{\"text\": \"unclosed\n");
        Run bad = cli("predict", "--model", labelFile.toString(), "--input", input.toString());
        assertEquals(1, bad.code(), bad.err());
        assertTrue(bad.err().startsWith("error: " + input + " line 2: is not valid JSON ("), bad.err());
        assertTrue(bad.err().endsWith("); give one text per line, or one JSON object with a \"text\" field per line\n"),
                bad.err());
    }

    @Test
    void exportPeftIntoAFolderWithOtherFilesNeedsOverwriteAndKeepsThem(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("share"));
        Files.writeString(dir.resolve("README.md"), "my notes");
        Run refused = cli("export-peft", "--model", labelFile.toString(), "--output", dir.toString());
        assertEquals(1, refused.code(), refused.err());
        assertTrue(refused.err().contains("already holds files tribuo-peft did not write (README.md)"), refused.err());
        assertFalse(Files.exists(dir.resolve("adapter_config.json")));

        Run written = cli("export-peft", "--model", labelFile.toString(), "--output", dir.toString(), "--overwrite");
        assertEquals(0, written.code(), written.err());
        assertEquals("my notes", Files.readString(dir.resolve("README.md")));
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "tribuo_peft.json")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(Files.createFile(tmp.resolve("ref")))),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("adapter_model.safetensors"))));

        Path fresh = tmp.resolve("fresh");
        assertEquals(0, cli("export-peft", "--model", labelFile.toString(), "--output", fresh.toString()).code());
        assertEquals(0, cli("export-peft", "--model", labelFile.toString(), "--output", fresh.toString()).code(),
                "a folder we wrote is replaced without --overwrite");
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(
                Files.createDirectory(tmp.resolve("refdir")))), PosixFilePermissions.toString(
                Files.getPosixFilePermissions(fresh)));
    }

    @Test
    void aRunFolderThatCannotBeWrittenAfterTrainingSavesTheModelNextToItAndSaysWhere(@TempDir Path tmp)
            throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("run"));
        // appeared while training ran, after the up-front check
        Files.writeString(dir.resolve("notes.txt"), "mine");
        LabelEvaluation evaluation = new LabelEvaluator().evaluate(labels, TinyDatasets.labels(8, 5));
        RunOutputException e = assertThrows(RunOutputException.class,
                () -> RunOutputs.writeOrSaveModel(dir, labels, evaluation, 1.5, false));
        Path saved = tmp.resolve("run.unsaved-model.tribuo");
        assertEquals(saved, e.savedModel());
        assertTrue(e.getMessage().startsWith("writing " + dir + " failed: " + dir + ": already holds files"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(". The trained model was saved to " + saved
                + " (use it with --model, or move it where you want it)"), e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        @SuppressWarnings("unchecked")
        Model<Label> reloaded = (Model<Label>) Model.deserializeFromFile(saved);
        assertEquals(labels.getName(), reloaded.getName());
        // the same batch on both sides: a batch of another size may round differently in the last bit
        assertEquals(direct(labels).get(0).getOutputScores().get("pos").getScore(),
                direct(reloaded).get(0).getOutputScores().get("pos").getScore(), 0.0);
    }

    @Test
    void aFailureAfterTrainingWithoutAnOutputFolderSavesTheModelInTheTempFolder(@TempDir Path tmp) throws IOException {
        String before = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try {
            RunOutputException e = RunOutputs.failedAfterTraining("evaluation on the test data failed", null, labels,
                    new IllegalStateException("no test examples"));
            assertEquals(tmp, e.savedModel().getParent());
            assertTrue(e.savedModel().getFileName().toString().startsWith("tribuo-peft-unsaved-"), e.getMessage());
            assertEquals("evaluation on the test data failed: no test examples. The trained model was saved to "
                    + e.savedModel() + " (use it with --model, or move it where you want it)", e.getMessage());
            assertEquals(labels.getName(), Model.deserializeFromFile(e.savedModel()).getName());
        } finally {
            System.setProperty("java.io.tmpdir", before);
        }
    }
}
