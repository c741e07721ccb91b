package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.relora.ReLoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.provenance.replay.ModelReplayer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ReLoRA model keeps the base weights its resets rewrote: model.tribuo predicts exactly, the Hugging
 * Face export is the merged model, the merged ONNX export matches, and a replay is bit-identical.
 */
class ReLoraModelTest {
    private static final String QUERY0 = "encoder.layer.0.attention.self.query.weight";
    private static final List<Example<Label>> TEST = TinyDatasets.examples(16, 2, TinyDatasets::label);

    /** 32 examples, batch 8, 2 epochs: 8 steps, resets after steps 3 and 6. */
    private static AdapterModel<Label> trained() {
        return AdapterModelSerializationTest.<Label>trainer(
                new ReLoraConfig(4, 8, 0.0, List.of("query", "value"), 3, 0.99, 1)).train(TinyDatasets.labels(32, 1));
    }

    @Test
    void modelFileHoldsTheRewrittenBaseAndPredictsExactly() {
        AdapterModel<Label> model = trained();
        HostTensor pretrained = TinyBert.weights(21).get(QUERY0);
        assertTrue(model.trainedTensors().get(QUERY0).maxAbsDiff(pretrained) > 1e-4, "the resets rewrote the base");
        AdapterModel<Label> copy = (AdapterModel<Label>) Helpers.testModelProtoSerialization(model, Label.class, TEST);
        assertTrue(copy.trainedTensors().get(QUERY0).bitEquals(model.trainedTensors().get(QUERY0)));
        List<String> texts = TEST.stream().map(e -> TextExamples.text(e, "text", 0)).toList();
        assertEquals(0.0, FloatRows.maxAbsDiff(model.textModel().predictLogits(texts, 8),
                copy.textModel().predictLogits(texts, 8)));
        model.close();
        copy.close();
    }

    @Test
    void exportIsAMergedHuggingFaceModelThatEncodesLikeTheTrainedOne(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = trained();
        Path dir = tmp.resolve("relora-hf");
        AdapterExports.write(model, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);
        assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json", "tribuo_peft.json"),
                AdapterExports.entries(model));
        Map<String, HostTensor> saved = SafetensorsReader.read(dir.resolve(Backbone.MODEL_SAFETENSORS)).floats();
        assertFalse(saved.keySet().stream().anyMatch(k -> k.contains("lora_")), saved.keySet().toString());
        assertTrue(saved.get("classifier.weight").bitEquals(model.trainedTensors().get("classifier.weight")));
        List<String> texts = TEST.stream().map(e -> TextExamples.text(e, "text", 0)).toList();
        Pooling pooling = model.backboneReference().pooling();
        try (TextModel exported = TextModel.create(Backbone.fromHfFolder(dir, pooling), new FullFineTuning(),
                TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(0))) {
            double d = FloatRows.maxAbsDiff(model.textModel().embed(texts, 8), exported.embed(texts, 8));
            System.out.printf("ReLoRA HF export vs trained model: max |embedding diff| %.2e%n", d);
            assertTrue(d <= 1e-5, "the exported encoder differs by " + d);
        }
        assertEquals("relora", AdapterExports.readSidecar(dir).path("method").asText());
        model.close();
    }

    @Test
    void mergedOnnxExportMatchesAndTheAdapterFormIsRefused(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = trained();
        Path onnx = tmp.resolve("relora.onnx");
        OnnxExports.writeMerged(model, onnx);
        try (OnnxTextModel<Label> ort = OnnxTextModel.load(onnx, null, false)) {
            double d = OnnxTextModelTest.maxScoreDiff(model.predict(TEST), ort.predict(TEST));
            System.out.printf("ReLoRA merged ONNX vs model: max |score diff| %.2e%n", d);
            assertTrue(d <= 1e-5, "ONNX Runtime scores differ by " + d);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExports.writeAdapter(model, tmp.resolve("relora.onnx_adapter")));
        assertEquals("relora changes base weights (ReLoRA merges its update into them at every reset), so its update "
                + "is not an input over the pretrained graph; export it merged", e.getMessage());
        model.close();
    }

    @Test
    void reLoraTrainedFromAPipelineFileReplaysBitIdentically(@TempDir Path tmp) throws Exception {
        Path csv = CsvTexts.write(tmp.resolve("texts.csv"), 48, 4);
        AdapterModel<Label> original = ReplayTest.train(csv, TinyBert.folder(21).toString(), "relora");
        ModelReplayer.Result<Label> r = Replays.replay(original);
        assertTrue(r.report().bitIdentical(), r.report().render());
        assertEquals(0.0, r.report().maxAbsDiff());
        assertTrue(original.trainedTensors().containsKey(QUERY0));
        original.close();
        ((AdapterModel<Label>) r.replayed()).close();
    }
}
