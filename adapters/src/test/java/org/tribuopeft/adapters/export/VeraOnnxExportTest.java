package org.tribuopeft.adapters.export;

import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.vera.VeraConfig;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A VeRA model in ONNX Runtime, merged and as an .onnx_adapter over the base graph, matches the DJL model. */
class VeraOnnxExportTest {

    @Test
    void veraMergedAndAsAdapterInputsMatchesDjl() throws Exception {
        Backbone base = TinyBert.backbone(5);
        List<String> texts = SyntheticTexts.twoClass(12, 5).stream().map(LabelledText::text).toList();
        try (TextModel model = OnnxExportParityTest.train(base, new VeraConfig(24, 0.1, 0.0,
                List.of("query", "value", "dense")), TaskKind.SINGLE_LABEL, 2, SyntheticTexts.twoClass(32, 1), 24, 3)) {
            TokenBatch batch = model.tokenizer().encode(texts);
            float[][] djl = model.predictLogits(texts, 12);
            try (OrtSession merged = OnnxExportParityTest.session(OnnxExporter.merged(model, Map.of()))) {
                double d = FloatRows.maxAbsDiff(djl, OnnxExportParityTest.ortLogits(merged, batch, null));
                System.out.printf("VeRA merged ONNX vs DJL: max |logit diff| = %.2e%n", d);
                assertTrue(d <= 1e-4, "merged VeRA differs by " + d);
            }
            var graph = OnnxExporter.export(new OnnxExporter.Spec(base.weights(), null, null, 2, base.pooling(),
                    TaskKind.SINGLE_LABEL, OnnxAdapterParameters.modules(model), Map.of()));
            try (OrtSession s = OnnxExportParityTest.session(graph);
                 OrtLoraAdapter a = OrtLoraAdapter.create(OrtAdapterFile.bytes(OnnxAdapterParameters.of(model), 1, 1))) {
                double d = FloatRows.maxAbsDiff(djl, OnnxExportParityTest.ortLogits(s, batch, a));
                System.out.printf("VeRA as ONNX adapter inputs vs DJL: max |logit diff| = %.2e%n", d);
                assertTrue(d <= 1e-4, "VeRA adapter inputs differ by " + d);
            }
        }
    }
}
