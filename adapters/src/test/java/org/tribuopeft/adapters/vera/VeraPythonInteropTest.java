package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
import org.tribuopeft.adapters.peft.PythonPeftFoldersTest;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VeRA against Python PEFT 0.21 ({@code src/test/resources/peft-python/vera/vera.py}, run on the interop base):
 * PEFT's own VeRA folder loads here and reproduces PEFT's last hidden states, and the recorded run shows our
 * folder ({@link VeraInteropBundle}) loading in PEFT and reproducing ours.
 */
class VeraPythonInteropTest {
    static final Path ROOT = Paths.get("src", "test", "resources", "peft-python");
    static final ObjectMapper JSON = new ObjectMapper();

    /** The encoder with a folder's VeRA installed: λ vectors as trainable values, projections as method state. */
    private static double maxHiddenDiff(Path folder, JsonNode theirs) throws Exception {
        JsonNode expected = JSON.readTree(ROOT.resolve("expected.json").toFile());
        TokenBatch batch = new TokenBatch(PythonPeftFoldersTest.rows(expected.get("ids")),
                PythonPeftFoldersTest.rows(expected.get("mask")), PythonPeftFoldersTest.rows(expected.get("types")));
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("base"), Pooling.MEAN);
        PeftAdapter adapter = PeftAdapterReader.read(folder, base.config());
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            AdaptedEncoder adapted = adapter.method().apply(base.createEncoder(manager), new SplittableRandom(1));
            Map<String, HostTensor> trainable = new LinkedHashMap<>(adapter.tensors());
            trainable.keySet().removeAll(adapted.methodState().keySet());
            adapted.loadTrainableTensors(trainable);
            adapted.methodState().forEach((name, p) -> HostTensor.copyInto(adapter.tensors().get(name), p.getArray()));
            float[] ours = adapted.encoder().encode(manager, batch).toFloatArray();
            int hidden = base.config().hiddenSize();
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
    }

    @Test
    void peftsOwnVeraFolderReproducesPeftsHiddenStates() throws Exception {
        Path folder = ROOT.resolve("vera").resolve("py_vera");
        double max = maxHiddenDiff(folder, JSON.readTree(folder.resolveSibling("py_vera.json").toFile()));
        System.out.printf("py_vera (written by Python PEFT) vs PEFT's hidden states: max |diff| = %.2e%n", max);
        assertTrue(max <= 1e-5, "PEFT's VeRA folder differs from PEFT by " + max);
    }

    @Test
    void ourFolderReadsBackToOurHiddenStatesAndLoadedInPeftWithTheSame() throws Exception {
        Path folder = ROOT.resolve("vera").resolve("ours_vera");
        double ours = maxHiddenDiff(folder, JSON.readTree(folder.resolveSibling("ours_vera.json").toFile()));
        // ours_vera.json holds hidden states our encoder wrote with its earlier op order (matmul + bias add, scores
        // divided by √d); the fused addmm and scaled_dot_product_attention round differently (1.4e-6 here), so the
        // bound is the float32 one this test also applies against PEFT
        assertTrue(ours <= 1e-5, "our folder read back differs from what we wrote by " + ours);
        JsonNode run = JSON.readTree(ROOT.resolve("vera").resolve("vera-results.json").toFile());
        assertEquals("0.21.0", run.get("peft").asText());
        double inPeft = run.get("ours_in_peft").get("max_hidden_diff").asDouble();
        System.out.printf("ours_vera (ours, loaded by Python PEFT): max |hidden diff| = %.2e%n", inPeft);
        assertTrue(inPeft <= 1e-5, "PEFT reproduced our VeRA hidden states only to " + inPeft);
        // 10 adapted modules of ours plus the pooler, which PEFT's "dense" also matches
        assertEquals(11, run.get("ours_in_peft").get("vera_layers_in_peft").asInt());
    }
}
