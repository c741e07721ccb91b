package org.tribuopeft.adapters.peft;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.prefix.PrefixTuningConfig;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt tuning and prefix tuning folders both ways with Python PEFT 0.21 (fixtures and the script that made
 * them in {@code src/test/resources/peft-python/prompt/}): PEFT's folders load here and reproduce PEFT's last
 * hidden states at the real token positions, and the recorded run of the script shows our folders (the ones
 * this test writes, kept bit for bit as {@code ours_*}) loading in PEFT and reproducing ours.
 */
class PromptLearningFoldersTest {
    static final Path ROOT = PythonPeftFoldersTest.ROOT.resolve("prompt");
    /** Our folders for {@code prompt_learning.py <fixtures> <bundle>}. */
    static final Path BUNDLE = Paths.get("target", "prompt-learning-interop");

    static TokenBatch batch(JsonNode expected) {
        long[][] ids = PythonPeftFoldersTest.rows(expected.get("ids"));
        return new TokenBatch(ids, PythonPeftFoldersTest.rows(expected.get("mask")), new long[ids.length][ids[0].length]);
    }

    /** Max |diff| over the real (unpadded) token positions of [batch, tokens, hidden] values. */
    static double maxDiffAtRealTokens(float[] ours, JsonNode theirs, TokenBatch batch, int hidden) {
        double max = 0;
        for (int b = 0; b < batch.size(); b++) {
            for (int t = 0; t < batch.tokenCount(b); t++) {
                for (int h = 0; h < hidden; h++) {
                    int k = (b * batch.length() + t) * hidden + h;
                    max = Math.max(max, Math.abs(ours[k] - theirs.get(k).asDouble()));
                }
            }
        }
        return max;
    }

    @Test
    void foldersWrittenByPythonPeftReproducePeftsHiddenStatesAtTheRealTokens() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(ROOT.resolve("expected.json").toFile());
        TokenBatch batch = batch(expected);
        Backbone base = Backbone.fromHfFolder(PythonPeftFoldersTest.ROOT.resolve("base"), Pooling.MEAN);
        Map<String, String> methods = Map.of("py_prompt", "prompt", "py_prefix", "prefix", "py_prefix_proj", "prefix",
                "py_prompt_seq_cls", "prompt");
        for (Map.Entry<String, String> e : methods.entrySet()) {
            PeftAdapter adapter = PeftAdapterReader.read(ROOT.resolve(e.getKey()), base.config());
            assertEquals(e.getValue(), adapter.method().descriptor().name(), e.getKey());
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                AdaptedEncoder adapted = adapter.method().apply(base.createEncoder(manager), new SplittableRandom(1));
                Map<String, HostTensor> encoderTensors = new LinkedHashMap<>(adapter.tensors());
                encoderTensors.keySet().removeIf(k -> k.startsWith("classifier."));
                adapted.loadTrainableTensors(encoderTensors);
                float[] ours = adapted.encoder().encode(manager, batch).toFloatArray();
                double max = maxDiffAtRealTokens(ours, expected.get("hidden").get(e.getKey()), batch,
                        base.config().hiddenSize());
                System.out.printf("%s (written by Python PEFT) vs PEFT's hidden states: max |diff| = %.2e%n",
                        e.getKey(), max);
                assertTrue(max <= 1e-5, e.getKey() + " differs from Python PEFT by " + max);
            }
        }
    }

    @Test
    void aSequenceClassificationFolderBringsItsHeadFromPeftsPromptLearningKeys() throws Exception {
        Backbone base = Backbone.fromHfFolder(PythonPeftFoldersTest.ROOT.resolve("base"), Pooling.MEAN);
        PeftAdapter adapter = PeftAdapterReader.read(ROOT.resolve("py_prompt_seq_cls"), base.config());
        assertEquals(PeftKeyStyle.SEQUENCE_CLASSIFICATION, adapter.keyStyle());
        assertEquals(new java.util.TreeSet<>(java.util.List.of("classifier.bias", "classifier.weight", "prompt_embeddings")),
                new java.util.TreeSet<>(adapter.tensors().keySet()));
        assertEquals(2, adapter.tensors().get("classifier.weight").dim(0));
    }

    static Map<String, AdapterMethod> ours() {
        Map<String, AdapterMethod> m = new LinkedHashMap<>();
        m.put("ours_prompt", new PromptTuningConfig(5, ""));
        m.put("ours_prefix", new PrefixTuningConfig(4, false, 0));
        m.put("ours_prefix_proj", new PrefixTuningConfig(3, true, 8));
        m.put("ours_prompt_seq_cls", new PromptTuningConfig(2, ""));
        return m;
    }

    @Test
    void ourFoldersLoadedInPythonPeftAndReproducedOurHiddenStates() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(ROOT.resolve("expected.json").toFile());
        TokenBatch batch = batch(expected);
        Backbone base = Backbone.fromHfFolder(PythonPeftFoldersTest.ROOT.resolve("base"), Pooling.MEAN);
        ObjectMapper json = new ObjectMapper();
        for (Map.Entry<String, AdapterMethod> e : ours().entrySet()) {
            Path out = BUNDLE.resolve(e.getKey());
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                AdaptedEncoder adapted = e.getValue().apply(base.createEncoder(manager), new SplittableRandom(42));
                Map<String, HostTensor> tensors = new LinkedHashMap<>(adapted.trainableTensors());
                Map<String, Object> expectedHere = new LinkedHashMap<>();
                expectedHere.put("hidden", adapted.encoder().encode(manager, batch).toFloatArray());
                PeftKeyStyle style = e.getKey().endsWith("seq_cls") ? PeftKeyStyle.SEQUENCE_CLASSIFICATION
                        : PeftKeyStyle.BARE_ENCODER;
                if (style == PeftKeyStyle.SEQUENCE_CLASSIFICATION) {
                    float[] w = new float[2 * base.config().hiddenSize()];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = (float) Math.sin(i);
                    }
                    tensors.put("classifier.weight", new HostTensor(new long[] {2, base.config().hiddenSize()}, w));
                    tensors.put("classifier.bias", new HostTensor(new long[] {2}, new float[] {0.25f, -0.5f}));
                    expectedHere.put("classifier.weight", new float[][] {java.util.Arrays.copyOf(w, w.length / 2),
                        java.util.Arrays.copyOfRange(w, w.length / 2, w.length)});
                    expectedHere.put("classifier.bias", new float[] {0.25f, -0.5f});
                }
                PeftAdapter adapter = new PeftAdapter(e.getValue(), tensors, Map.of(), "./base", Map.of(), style);
                PeftAdapterWriter.write(out, adapter, style, Map.of(),
                        Map.of("expected.json", json.writeValueAsString(expectedHere)), true);
            }
        }
        JsonNode recorded = json.readTree(ROOT.resolve("interop-results.json").toFile());
        assertEquals("0.21.0", recorded.get("peft").asText());
        for (Map.Entry<String, AdapterMethod> e : ours().entrySet()) {
            Path out = BUNDLE.resolve(e.getKey());
            PeftAdapter written = PeftAdapterReader.read(out, base.config());
            PeftAdapter kept = PeftAdapterReader.read(ROOT.resolve(e.getKey()), base.config());
            // the folders the recorded Python run loaded are the ones this test writes
            assertEquals(kept.tensors().keySet(), written.tensors().keySet());
            kept.tensors().forEach((k, t) -> assertTrue(t.bitEquals(written.tensors().get(k)), e.getKey() + " " + k));
            JsonNode r = recorded.get("java_to_python").get(e.getKey());
            System.out.printf("%s (ours, loaded by Python PEFT): max |hidden diff| = %.2e%n", e.getKey(),
                    r.get("max_hidden_diff").asDouble());
            assertTrue(r.get("max_hidden_diff").asDouble() <= 1e-5, e.getKey());
            if (e.getKey().endsWith("seq_cls")) {
                // PEFT put our head back from modules_to_save (base_model.classifier.*), not a fresh random one
                assertEquals(0.0, r.get("max_head_diff").asDouble(), e.getKey());
                JsonNode cfg = json.readTree(out.resolve(PeftAdapterWriter.CONFIG).toFile());
                assertEquals("[\"classifier\"]", cfg.get("modules_to_save").toString());
                assertEquals("SEQ_CLS", cfg.get("task_type").asText());
            }
            assertEquals(e.getValue().descriptor().peftForm().orElseThrow().peftType(), r.get("peft_type").asText());
        }
    }
}
