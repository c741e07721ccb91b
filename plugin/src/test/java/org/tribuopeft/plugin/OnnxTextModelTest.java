package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.regression.Regressor;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exported models run in ONNX Runtime behind Tribuo's Model API with the predictions of the DJL model. */
class OnnxTextModelTest {
    static final List<Example<Label>> TEST = TinyDatasets.examples(16, 2, TinyDatasets::label);

    static double maxScoreDiff(List<Prediction<Label>> a, List<Prediction<Label>> b) {
        double m = 0;
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getOutput().getLabel(), b.get(i).getOutput().getLabel(), "example " + i);
            for (var e : a.get(i).getOutputScores().entrySet()) {
                m = Math.max(m, Math.abs(e.getValue().getScore() - b.get(i).getOutputScores().get(e.getKey()).getScore()));
            }
        }
        return m;
    }

    @Test
    void mergedExportPredictsLikeTheTribuoModelAndSerializes(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new DoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        Path onnx = tmp.resolve("merged.onnx");
        OnnxExports.writeMerged(model, onnx);
        try (OnnxTextModel<Label> ort = OnnxTextModel.load(onnx, null, false)) {
            double d = maxScoreDiff(model.predict(TEST), ort.predict(TEST));
            assertTrue(d <= 1e-5, "ONNX Runtime scores differ by " + d);
            assertEquals("cpu", ort.device());
            // the training provenance travels inside the ONNX file
            assertEquals(model.getProvenance().getTrainerProvenance(), ort.getProvenance().getTrainerProvenance());
            Helpers.testModelProtoSerialization(ort, Label.class, TEST);
        }
        model.close();
    }

    @Test
    void regressionExportPredictsTheSameValues(@TempDir Path tmp) throws Exception {
        AdapterModel<Regressor> model = AdapterModelSerializationTest.<Regressor>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query"))).train(TinyDatasets.regression(32, 1));
        Path onnx = tmp.resolve("reg.onnx");
        OnnxExports.writeMerged(model, onnx);
        List<Example<Regressor>> test = TinyDatasets.examples(8, 3, TinyDatasets::regressor);
        try (OnnxTextModel<Regressor> ort = OnnxTextModel.load(onnx, null, false)) {
            var a = model.predict(test);
            var b = ort.predict(test);
            for (int i = 0; i < a.size(); i++) {
                double[] x = a.get(i).getOutput().getValues();
                double[] y = b.get(i).getOutput().getValues();
                for (int j = 0; j < x.length; j++) {
                    assertEquals(x[j], y[j], 1e-4);
                }
            }
        }
        model.close();
    }

    @Test
    void oneBaseFileWithTwoAdapterFilesReproducesBothModels(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> lora = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        AdapterModel<Label> ada = AdapterModelSerializationTest.<Label>trainer(
                new AdaLoraConfig(4, 2, 8, List.of("value", "dense"))).train(TinyDatasets.labels(32, 3));
        Path base = tmp.resolve("base.onnx");
        OnnxExports.writeAdapterBase(base, lora, ada);
        OnnxExports.writeAdapter(lora, tmp.resolve("lora.onnx_adapter"));
        OnnxExports.writeAdapter(ada, tmp.resolve("ada.onnx_adapter"));
        try (OnnxTextModel<Label> a = OnnxTextModel.load(base, tmp.resolve("lora.onnx_adapter"), false);
             OnnxTextModel<Label> b = OnnxTextModel.load(base, tmp.resolve("ada.onnx_adapter"), false)) {
            assertTrue(maxScoreDiff(lora.predict(TEST), a.predict(TEST)) <= 1e-5);
            assertTrue(maxScoreDiff(ada.predict(TEST), b.predict(TEST)) <= 1e-5);
        }
        lora.close();
        ada.close();
    }

    @Test
    void askingForCudaWithoutItSaysSoAndRunsOnTheCpu(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query"))).train(TinyDatasets.labels(32, 1));
        Path onnx = tmp.resolve("m.onnx");
        OnnxExports.writeMerged(model, onnx);
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (OnnxTextModel<Label> ort = OnnxTextModel.load(onnx, null, true)) {
            String device = ort.device();
            if (device.equals("cpu")) {
                assertTrue(err.toString(StandardCharsets.UTF_8).contains("CUDA execution provider is not available"),
                        err.toString(StandardCharsets.UTF_8));
            }
            assertTrue(maxScoreDiff(model.predict(TEST), ort.predict(TEST)) <= 1e-5);
        } finally {
            System.setErr(original);
        }
        model.close();
    }
}
