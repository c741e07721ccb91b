package org.tribuopeft.adapters.export;

import org.tribuopeft.adapters.prefix.PrefixTuningConfig;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exported ONNX models give ONNX Runtime the same logits as our DJL models, merged or with switchable adapters. */
class OnnxExportParityTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    static TextModel train(Backbone base, AdapterMethod method, TaskKind task, int outputs, List<LabelledText> data,
                           int maxLength, long seed) throws Exception {
        TextModel m = TextModel.create(base, method, task, outputs, maxLength, new SplittableRandom(seed));
        new FineTuner(new TrainingConfig(1, 16, 2e-3, 0.0, 0.0, 1.0, 0, 32, seed), ProgressListener.NONE)
                .fit(m, data, List.of());
        return m;
    }

    static float[][] ortLogits(OrtSession session, TokenBatch batch, OrtLoraAdapter adapter) throws Exception {
        try (OnnxTensor ids = OnnxTensor.createTensor(ENV, batch.ids());
             OnnxTensor mask = OnnxTensor.createTensor(ENV, batch.attentionMask());
             OnnxTensor types = OnnxTensor.createTensor(ENV, batch.typeIds());
             OrtSession.RunOptions options = new OrtSession.RunOptions()) {
            if (adapter != null) {
                options.addActiveLoraAdapter(adapter);
            }
            try (OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids",
                    types), Set.of("logits"), options)) {
                return (float[][]) r.get("logits").orElseThrow().getValue();
            }
        }
    }

    static OrtSession session(ModelProto model) throws Exception {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            // adapter inputs are initializers that double as graph inputs on purpose; ORT warns about each
            o.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            return ENV.createSession(model.toByteArray(), o);
        }
    }

    @Test
    void mergedExportsOfEveryMethodMatchDjlOnTheTinyModel() throws Exception {
        List<LabelledText> data = SyntheticTexts.twoClass(32, 1);
        List<String> texts = SyntheticTexts.twoClass(12, 5).stream().map(LabelledText::text).toList();
        for (AdapterMethod m : List.of(new LoraConfig(4, 8, 0.0, List.of("all-linear")),
                new DoraConfig(4, 8, 0.0, List.of("query", "value")), new AdaLoraConfig(4, 2, 8, List.of("query", "value")),
                new FullFineTuning())) {
            for (TaskKind task : TaskKind.values()) {
                try (TextModel model = train(TinyBert.backbone(5), m, task, 2, task == TaskKind.SINGLE_LABEL ? data
                        : data.stream().map(t -> new LabelledText(t.text(), t.target())).toList(), 24, 3);
                     OrtSession s = session(OnnxExporter.merged(model, Map.of()))) {
                    double d = FloatRows.maxAbsDiff(model.predictLogits(texts, 12), ortLogits(s, model.tokenizer().encode(texts), null));
                    assertTrue(d <= 1e-4, m + " " + task + ": ONNX Runtime differs by " + d);
                }
            }
        }
    }

    @Test
    void promptAndPrefixTuningExportAsConstantsAndMatchDjl() throws Exception {
        List<LabelledText> data = SyntheticTexts.twoClass(32, 1);
        List<String> texts = SyntheticTexts.twoClass(12, 5).stream().map(LabelledText::text).toList();
        for (AdapterMethod m : List.of(new PromptTuningConfig(4, ""), new PrefixTuningConfig(4, false, 0),
                new PrefixTuningConfig(3, true, 8))) {
            try (TextModel model = train(TinyBert.backbone(5), m, TaskKind.SINGLE_LABEL, 2, data, 24, 3);
                 OrtSession s = session(OnnxExporter.merged(model, Map.of()))) {
                TokenBatch batch = model.tokenizer().encode(texts);
                double d = FloatRows.maxAbsDiff(model.predictLogits(texts, 12), ortLogits(s, batch, null));
                float[] ours;
                try (ai.djl.ndarray.NDManager manager = org.tribuopeft.adapters.engine.TorchRuntime.engine().newBaseManager()) {
                    ours = model.adapted().encoder().encode(manager, batch).toFloatArray();
                }
                double hidden = 0;
                try (OnnxTensor ids = OnnxTensor.createTensor(ENV, batch.ids());
                     OnnxTensor mask = OnnxTensor.createTensor(ENV, batch.attentionMask());
                     OnnxTensor types = OnnxTensor.createTensor(ENV, batch.typeIds());
                     OrtSession.Result r = s.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types),
                             Set.of("last_hidden_state"))) {
                    float[][][] h = (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
                    assertEquals(batch.length(), h[0].length, m + ": last_hidden_state holds the real tokens only");
                    int k = 0;
                    for (float[][] row : h) {
                        for (float[] token : row) {
                            for (float v : token) {
                                hidden = Math.max(hidden, Math.abs(v - ours[k++]));
                            }
                        }
                    }
                }
                System.out.printf("%s merged ONNX vs DJL: max |logit diff| = %.2e, max |hidden diff| = %.2e%n", m, d, hidden);
                assertTrue(d <= 1e-4, m + ": ONNX Runtime logits differ by " + d);
                assertTrue(hidden <= 1e-4, m + ": ONNX Runtime hidden states differ by " + hidden);
            }
        }
    }

    @Test
    void mergedMiniLmLoraMatchesDjlOnRealReviews() throws Exception {
        Backbone base = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), 11);
        List<LabelledText> train = reviews.subList(0, 32).stream()
                .map(r -> LabelledText.ofClass(r.text(), r.positive() ? 1 : 0, 2)).toList();
        List<String> texts = reviews.subList(100, 116).stream().map(ImdbReviews.Review::text).toList();
        try (TextModel model = train(base, new LoraConfig(8, 16, 0.0, List.of("query", "value")), TaskKind.SINGLE_LABEL,
                2, train, 128, 4);
             OrtSession s = session(OnnxExporter.merged(model, Map.of("note", "test")))) {
            double d = FloatRows.maxAbsDiff(model.predictLogits(texts, 16), ortLogits(s, model.tokenizer().encode(texts), null));
            System.out.printf("MiniLM LoRA merged ONNX vs DJL on 16 real reviews: max |logit diff| = %.2e%n", d);
            assertTrue(d <= 1e-4, "merged ONNX differs by " + d);
        }
    }

    @Test
    void oneSessionServesTwoAdaptersThatEachMatchTheirDjlModel() throws Exception {
        Backbone base = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), 12);
        List<LabelledText> train = reviews.subList(0, 32).stream()
                .map(r -> LabelledText.ofClass(r.text(), r.positive() ? 1 : 0, 2)).toList();
        List<String> texts = reviews.subList(200, 212).stream().map(ImdbReviews.Review::text).toList();
        try (TextModel lora = train(base, new LoraConfig(8, 16, 0.0, List.of("query", "value")), TaskKind.SINGLE_LABEL, 2,
                train, 96, 5);
             TextModel ada = train(base, new AdaLoraConfig(6, 4, 8, List.of("query", "value", "attention.output.dense")),
                     TaskKind.SINGLE_LABEL, 2, train, 96, 6)) {
            Set<String> modules = new LinkedHashSet<>(OnnxAdapterParameters.modules(lora));
            modules.addAll(OnnxAdapterParameters.modules(ada));
            ModelProto baseModel = OnnxExporter.export(new OnnxExporter.Spec(base.weights(), null, null, 2,
                    base.pooling(), TaskKind.SINGLE_LABEL, modules, Map.of()));
            TokenBatch batch = lora.tokenizer().encode(texts);
            try (OrtSession s = session(baseModel);
                 OrtLoraAdapter a1 = OrtLoraAdapter.create(OrtAdapterFile.bytes(OnnxAdapterParameters.of(lora), 1, 1));
                 OrtLoraAdapter a2 = OrtLoraAdapter.create(OrtAdapterFile.bytes(OnnxAdapterParameters.of(ada), 1, 1))) {
                double d1 = FloatRows.maxAbsDiff(lora.predictLogits(texts, 12), ortLogits(s, batch, a1));
                double d2 = FloatRows.maxAbsDiff(ada.predictLogits(texts, 12), ortLogits(s, batch, a2));
                double cross = FloatRows.maxAbsDiff(lora.predictLogits(texts, 12), ortLogits(s, batch, a2));
                System.out.printf("one ORT session, two .onnx_adapter files: LoRA %.2e, AdaLoRA %.2e (cross %.2e)%n",
                        d1, d2, cross);
                assertTrue(d1 <= 1e-4 && d2 <= 1e-4, "adapter outputs differ: " + d1 + ", " + d2);
                assertTrue(cross > 1e-3, "the two adapters should give different logits");
            }
        }
    }

    @Test
    void doraCannotBeAnAdapterInputAndSaysWhy() throws Exception {
        try (TextModel model = train(TinyBert.backbone(5), new DoraConfig(4, 8, 0, List.of("query")),
                TaskKind.SINGLE_LABEL, 2, SyntheticTexts.twoClass(16, 1), 24, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OnnxAdapterParameters.of(model));
            assertTrue(e.getMessage().contains("export DoRA models merged"), e.getMessage());
        }
    }
}
