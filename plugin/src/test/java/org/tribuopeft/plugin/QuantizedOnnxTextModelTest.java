package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.export.WeightFormat;
import org.tribuopeft.adapters.export.WeightFormatException;
import org.tribuopeft.adapters.lora.LoraConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantized ONNX exports of a LoRA model on the real all-MiniLM-L6-v2 run in ONNX Runtime through
 * {@link OnnxTextModel} and predict close to the float32 export; a block size that does not suit the
 * encoder is refused before any file is written.
 */
class QuantizedOnnxTextModelTest {

    static double maxScoreDiff(List<Prediction<Label>> a, List<Prediction<Label>> b) {
        double m = 0;
        for (int i = 0; i < a.size(); i++) {
            for (var e : a.get(i).getOutputScores().entrySet()) {
                m = Math.max(m, Math.abs(e.getValue().getScore() - b.get(i).getOutputScores().get(e.getKey()).getScore()));
            }
        }
        return m;
    }

    @Test
    void aBlockSizeThatDoesNotDivideTheHiddenWidthIsRefusedBeforeWriting(@TempDir Path tmp) {
        // the tiny test encoder is 16 wide: block 32 cannot cut its Linear inputs into whole blocks
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query"))).train(TinyDatasets.labels(32, 1));
        Path file = tmp.resolve("m.onnx");
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> OnnxExports.writeMerged(model, file,
                WeightFormat.parse("int4:32")));
        assertEquals("block size 32 does not suit encoder.layer.0.attention.self.query: its input width 16 is not a "
                + "multiple of 32; choose a block size that divides 16", e.getMessage());
        assertFalse(Files.exists(file));
        model.close();
    }

    @Test
    void anUnreadableWeightFormatInTheMetadataNamesTheFile(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query"))).train(TinyDatasets.labels(32, 1));
        Path file = tmp.resolve("m.onnx");
        OnnxExports.writeMerged(model, file, WeightFormat.parse("int8:16"));
        model.close();
        var proto = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(file)).toBuilder();
        for (int i = 0; i < proto.getMetadataPropsCount(); i++) {
            if (proto.getMetadataProps(i).getKey().equals("tribuo_peft.weight_format")) {
                assertEquals("int8:16", proto.getMetadataProps(i).getValue());
                proto.setMetadataProps(i, proto.getMetadataProps(i).toBuilder().setValue("int3:16"));
            }
        }
        Path edited = tmp.resolve("edited.onnx");
        Files.write(edited, proto.build().toByteArray());
        var e = assertThrows(org.tribuopeft.adapters.io.ModelFileException.class, () -> OnnxTextModel.load(edited, null,
                false));
        assertTrue(e.getMessage().contains(edited.toString()) && e.getMessage().contains("unreadable "
                + "'tribuo_peft.weight_format' metadata: unknown weight format 'int3:16'"), e.getMessage());
    }

    @Test
    void quantizedMiniLmExportsPredictCloseToTheFloat32Export(@TempDir Path tmp) throws Exception {
        MutableDataset<Label> train = SmallDataDefaultsTest.load("train.csv");
        MutableDataset<Label> test = SmallDataDefaultsTest.load("test.csv");
        List<Example<Label>> examples = new ArrayList<>();
        test.forEach(examples::add);
        try (AdapterModel<Label> model = AdapterTrainer.builder(new LoraConfig()).backbone(BundledModel.ALL_MINILM_L6_V2)
                .epochs(1).minSteps(0).<Label>build().train(train)) {
            Path f32 = tmp.resolve("f32.onnx");
            OnnxExports.writeMerged(model, f32);
            try (OnnxTextModel<Label> reference = OnnxTextModel.load(f32, null, false)) {
                assertEquals(WeightFormat.FLOAT32, reference.weightFormat());
                // the weight format survives Tribuo's protobuf serialization of the ONNX model
                Path int4 = tmp.resolve("int4.onnx");
                OnnxExports.writeMerged(model, int4, WeightFormat.parse("int4:64:symmetric"));
                try (OnnxTextModel<Label> q = OnnxTextModel.load(int4, null, false)) {
                    var copy = (OnnxTextModel<?>) Helpers.testModelProtoSerialization(q, Label.class, examples.subList(0, 4));
                    assertEquals(WeightFormat.parse("int4:64:symmetric"), copy.weightFormat());
                }
                List<Prediction<Label>> expected = reference.predict(examples);
                for (String f : new String[] {"int8:32", "int4:32", "int4:128"}) {
                    Path file = tmp.resolve(f.replace(':', '_') + ".onnx");
                    OnnxExports.writeMerged(model, file, WeightFormat.parse(f));
                    try (OnnxTextModel<Label> q = OnnxTextModel.load(file, null, false)) {
                        assertEquals(WeightFormat.parse(f), q.weightFormat());
                        List<Prediction<Label>> got = q.predict(examples);
                        double d = maxScoreDiff(expected, got);
                        int agree = 0;
                        for (int i = 0; i < got.size(); i++) {
                            agree += got.get(i).getOutput().getLabel().equals(expected.get(i).getOutput().getLabel()) ? 1 : 0;
                        }
                        double ratio = (double) Files.size(file) / Files.size(f32);
                        System.out.printf("%s: max |score - float32 score| %.4g, %d/%d same label, size %.3f of float32%n",
                                f, d, agree, got.size(), ratio);
                        // measured on this model: int8:32 1.0e-3, int4:32 1.8e-2, int4:128 1.5e-2 (24 texts, 3 classes)
                        assertTrue(d > 0 && d <= (f.startsWith("int8") ? 5e-3 : 6e-2), f + " scores differ by " + d);
                        assertTrue(agree >= got.size() - 2, f + ": " + agree + " of " + got.size() + " labels agree");
                        // the word embeddings (half of MiniLM's weights) stay float32, the Linear weights shrink
                        assertTrue(ratio < (f.startsWith("int8") ? 0.68 : 0.62), f + " file is " + ratio + " of float32");
                    }
                }
            }
        }
    }
}
