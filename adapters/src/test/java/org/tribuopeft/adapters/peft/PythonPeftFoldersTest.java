package org.tribuopeft.adapters.peft;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraLinear;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapter folders written by Python PEFT 0.21.0 (LoRA, DoRA and AdaLoRA with a rank pattern, by
 * {@code src/test/resources/peft-python/interop.py}; LoRA with rank_pattern and alpha_pattern, by
 * {@code patterns.py}; LoRA on all-linear, on a regex string and with an int layers_to_transform, by
 * {@code forms.py}; all on a small random BERT) load here and give the last hidden states PEFT computed
 * for the same token ids; and the recorded run of {@code forms.py} shows every folder of ours loading in PEFT.
 */
public class PythonPeftFoldersTest {
    static final Path ROOT = Paths.get("src", "test", "resources", "peft-python");

    /** A JSON array of integer arrays (token ids, masks) as rows. */
    public static long[][] rows(JsonNode n) {
        long[][] out = new long[n.size()][];
        for (int i = 0; i < n.size(); i++) {
            out[i] = new long[n.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = n.get(i).get(j).asLong();
            }
        }
        return out;
    }

    @Test
    void foldersWrittenByPythonPeftReproducePeftsHiddenStates() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(ROOT.resolve("expected.json").toFile());
        TokenBatch batch = new TokenBatch(rows(expected.get("ids")), rows(expected.get("mask")),
                rows(expected.get("types")));
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("base"), Pooling.MEAN);
        for (String name : new String[] {"py_lora", "py_dora", "py_adalora", "py_lora_pattern", "py_lora_all_linear",
            "py_lora_regex", "py_lora_layer_int"}) {
            PeftAdapter adapter = PeftAdapterReader.read(ROOT.resolve(name), base.config());
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                AdaptedEncoder adapted = adapter.method().apply(base.createEncoder(manager), new SplittableRandom(1));
                Map<String, HostTensor> encoderTensors = new LinkedHashMap<>(adapter.tensors());
                encoderTensors.keySet().removeIf(k -> k.startsWith("classifier."));
                adapted.loadTrainableTensors(encoderTensors);
                adapter.rankMasks().forEach((m, keep) -> ((AdaLoraLinear) adapted.layers().get(m)).applyMask(keep));
                float[] ours = adapted.encoder().encode(manager, batch).toFloatArray();
                JsonNode theirs = expected.get("hidden").get(name);
                int hidden = base.config().hiddenSize();
                int tokens = batch.length();
                double max = 0;
                for (int b = 0; b < batch.size(); b++) {
                    for (int t = 0; t < batch.tokenCount(b); t++) {
                        for (int h = 0; h < hidden; h++) {
                            int k = (b * tokens + t) * hidden + h;
                            max = Math.max(max, Math.abs(ours[k] - theirs.get(k).asDouble()));
                        }
                    }
                }
                System.out.printf("%s (written by Python PEFT) vs PEFT's hidden states: max |diff| = %.2e%n", name, max);
                assertTrue(max <= 1e-5, name + " differs from Python PEFT by " + max);
            }
        }
    }

    /**
     * The recorded run of {@code forms.py}: every folder of {@link PeftTargetForms}, as our writer wrote it, loaded
     * unchanged in Python PEFT 0.21 and reproduced our last hidden states and head logits.
     */
    @Test
    void everyTargetFormOfOursLoadedInPythonPeftAndReproducedOurOutputs() throws Exception {
        JsonNode results = new ObjectMapper().readTree(ROOT.resolve("interop-results.json").toFile());
        assertEquals("0.21.0", results.get("peft").asText());
        JsonNode forms = results.get("java_to_python");
        Set<String> recorded = new TreeSet<>();
        forms.fieldNames().forEachRemaining(recorded::add);
        assertEquals(new TreeSet<>(PeftTargetForms.all().keySet()), recorded);
        for (String name : PeftTargetForms.all().keySet()) {
            JsonNode r = forms.get(name);
            System.out.printf("%s (ours, loaded by Python PEFT): max |hidden diff| = %.2e, max |logit diff| = %.2e%n",
                    name, r.get("max_hidden_diff").asDouble(), r.get("max_logit_diff").asDouble());
            assertTrue(r.get("max_hidden_diff").asDouble() <= 1e-5, name);
            assertTrue(r.get("max_logit_diff").asDouble() <= 1e-5, name);
            assertTrue(r.get("adapted_in_peft").asInt() > 0, name);
        }
    }
}
