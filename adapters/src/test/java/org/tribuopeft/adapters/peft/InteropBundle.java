package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.HiddenActivation;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import ai.djl.ndarray.NDScope;
import ai.djl.training.ParameterStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the material for checking our PEFT folders against Python PEFT (run on a machine that has
 * transformers and peft): a small random BERT as a Hugging Face folder, one adapter per entry of
 * {@link PeftTargetForms} (every target form, patterns, rsLoRA, bias modes, DoRA, AdaLoRA) trained here and
 * written as PEFT folders, and the token ids, last hidden states and logits our engine computes.
 * {@code java ... InteropBundle <dir>}; then {@code interop.py <dir> <out> <fixtures>}.
 */
public final class InteropBundle {
    /** The interop base: 2 layers, hidden 32, 4 heads, FFN 64, the tiny WordPiece vocabulary. */
    public static final BertConfig CONFIG = new BertConfig(64, 32, 2, 4, 64, 40, 2, 1e-12, HiddenActivation.GELU,
            0.1, 0.1);

    private InteropBundle() {}

    /** Writes the bundle into {@code args[0]}. */
    public static void main(String[] args) throws Exception {
        Path out = Paths.get(args[0]);
        Files.createDirectories(out);
        Backbone.writeHfFolder(out.resolve("base"), TinyBert.weights(CONFIG, 99), TinyBert.tokenizerJson());
        Backbone base = Backbone.fromHfFolder(out.resolve("base"), Pooling.MEAN);
        List<String> texts = List.of("good great fine", "bad awful", "nice happy joy day", "poor sad dull ugly bad",
                "fine");
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        boolean first = true;
        for (Map.Entry<String, PeftTargetForms.Form> e : PeftTargetForms.all().entrySet()) {
            PeftKeyStyle style = e.getValue().style();
            try (TextModel m = TextModel.create(base, e.getValue().method(), TaskKind.SINGLE_LABEL, 2, 32,
                    new SplittableRandom(7))) {
                List<LabelledText> train = SyntheticTexts.twoClass(48, 3);
                new FineTuner(new TrainingConfig(3, 8, 1e-2, 0.0, 0.0, 1.0, 0, 32, 5), ProgressListener.NONE)
                        .fit(m, train, List.of());
                TextModel.Snapshot s = m.snapshot();
                int totalStep = m.adapted().hook() instanceof org.tribuopeft.adapters.adalora.RankAllocator r
                        ? r.schedule().totalStep() : 0;
                PeftAdapterWriter.write(out.resolve(e.getKey()), new PeftAdapter(m.adapted().method(), s.values(),
                        s.rankMasks(), "base", Map.of(), style, totalStep), style, Map.of());
                TokenBatch batch = m.tokenizer().encode(texts);
                if (first) {
                    root.set("ids", rows(json, batch.ids()));
                    root.set("mask", rows(json, batch.attentionMask()));
                    root.set("types", rows(json, batch.typeIds()));
                    first = false;
                }
                ObjectNode node = root.putObject(e.getKey());
                try (NDScope scope = new NDScope()) {
                    var in = batch.toNDList(m.manager());
                    float[] hidden = m.adapted().encoder().encode(new ParameterStore(m.manager(), false), in.get(0),
                            in.get(1), in.get(2), false).toFloatArray();
                    ArrayNode h = node.putArray("hidden");
                    for (float v : hidden) {
                        h.add(v);
                    }
                }
                ArrayNode logits = node.putArray("logits");
                for (float[] row : m.predictLogits(texts, 8)) {
                    ArrayNode r = logits.addArray();
                    for (float v : row) {
                        r.add(v);
                    }
                }
                node.put("trainable", m.adapted().trainableParameterCount());
                if (e.getKey().equals("lora")) {
                    // the same model as a merged ONNX file, for ONNX Runtime's CPU and CUDA providers
                    var proto = org.tribuopeft.adapters.export.OnnxExporter.merged(m, Map.of());
                    Files.write(out.resolve("lora-merged.onnx"), proto.toByteArray());
                }
            }
        }
        Files.writeString(out.resolve("expected.json"), json.writeValueAsString(root));
    }

    private static ArrayNode rows(ObjectMapper json, long[][] rows) {
        ArrayNode a = json.createArrayNode();
        for (long[] row : rows) {
            ArrayNode r = a.addArray();
            for (long v : row) {
                r.add(v);
            }
        }
        return a;
    }
}
