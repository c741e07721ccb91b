package org.tribuopeft.adapters.prompt;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompt tuning: virtual tokens prepended as PEFT 0.21 does for a BERT encoder, checked against folders and
 * hidden states from Python PEFT ({@code src/test/resources/peft-python/prompt_tuning.py}), training that leaves
 * the backbone bit-identical, PEFT's text initialisation, and clear errors.
 */
class PromptTuningTest {
    static final Path ROOT = Paths.get("src", "test", "resources", "peft-python");

    static long[][] rows(JsonNode n) {
        long[][] out = new long[n.size()][];
        for (int i = 0; i < n.size(); i++) {
            out[i] = new long[n.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = n.get(i).get(j).asLong();
            }
        }
        return out;
    }

    static TokenBatch batch(JsonNode expected) {
        long[][] ids = rows(expected.get("ids"));
        return new TokenBatch(ids, rows(expected.get("mask")), new long[ids.length][ids[0].length]);
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
    void folderWrittenByPythonPeftReproducesPeftsHiddenStatesAtTheRealTokens() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(ROOT.resolve("expected_prompt.json").toFile());
        TokenBatch batch = batch(expected);
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("base"), Pooling.MEAN);
        PeftAdapter adapter = PeftAdapterReader.read(ROOT.resolve("py_prompt"), base.config());
        assertEquals(3, ((PromptTuningConfig) adapter.method()).numVirtualTokens());
        assertEquals(PeftKeyStyle.BARE_ENCODER, adapter.keyStyle());
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            AdaptedEncoder adapted = adapter.method().apply(base.createEncoder(manager), new SplittableRandom(1));
            adapted.loadTrainableTensors(adapter.tensors());
            float[] ours = adapted.encoder().encode(manager, batch).toFloatArray();
            double max = maxDiffAtRealTokens(ours, expected.get("hidden"), batch, base.config().hiddenSize());
            System.out.printf("py_prompt (written by Python PEFT) vs PEFT's hidden states: max |diff| = %.2e%n", max);
            assertTrue(max <= 1e-5, "differs from Python PEFT by " + max);
        }
    }

    /**
     * Writes our prompt-tuning folder (and our hidden states) for {@code prompt_tuning.py <fixtures> <folder>}; the
     * recorded run of that script shows PEFT loading it on a BertModel and reproducing our hidden states.
     */
    @Test
    void ourFolderLoadedInPythonPeftAndReproducedOurHiddenStates() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(ROOT.resolve("expected_prompt.json").toFile());
        TokenBatch batch = batch(expected);
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("base"), Pooling.MEAN);
        Path out = Paths.get("target", "prompt-interop", "prompt");
        PromptTuningConfig method = new PromptTuningConfig(5, "");
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            AdaptedEncoder adapted = method.apply(base.createEncoder(manager), new SplittableRandom(42));
            PeftAdapter adapter = new PeftAdapter(method, adapted.trainableTensors(), Map.of(), "./base", Map.of(),
                    PeftKeyStyle.BARE_ENCODER);
            PeftAdapterWriter.write(out, adapter, PeftKeyStyle.BARE_ENCODER, Map.of(), Map.of("expected.json",
                    new ObjectMapper().writeValueAsString(Map.of("hidden",
                            adapted.encoder().encode(manager, batch).toFloatArray()))), true);
            JsonNode cfg = new ObjectMapper().readTree(out.resolve(PeftAdapterWriter.CONFIG).toFile());
            assertEquals("PROMPT_TUNING", cfg.get("peft_type").asText());
            assertEquals(5, cfg.get("num_virtual_tokens").asInt());
            assertEquals(base.config().hiddenSize(), cfg.get("token_dim").asInt());
            assertEquals("RANDOM", cfg.get("prompt_tuning_init").asText());
            PeftAdapter back = PeftAdapterReader.read(out, base.config());
            assertTrue(back.tensors().get("prompt_embeddings").bitEquals(adapter.tensors().get("prompt_embeddings")));
            // the folder the recorded Python run loaded is the one this test writes
            PeftAdapter kept = PeftAdapterReader.read(ROOT.resolve("ours").resolve("prompt"), base.config());
            assertTrue(kept.tensors().get("prompt_embeddings").bitEquals(adapter.tensors().get("prompt_embeddings")));
        }
        JsonNode recorded = new ObjectMapper().readTree(ROOT.resolve("prompt-interop-results.json").toFile());
        assertEquals("0.21.0", recorded.get("peft").asText());
        assertEquals(5, recorded.get("num_virtual_tokens").asInt());
        System.out.printf("prompt (ours, loaded by Python PEFT): max |hidden diff| = %.2e%n",
                recorded.get("max_hidden_diff").asDouble());
        assertTrue(recorded.get("max_hidden_diff").asDouble() <= 1e-5);
    }

    @Test
    void trainingMovesOnlyThePromptAndTheHeadAndLeavesTheBackboneBitIdentical() throws Exception {
        List<LabelledText> train = SyntheticTexts.twoClass(32, 1);
        try (TextModel m = TextModel.create(TinyBert.backbone(5), new PromptTuningConfig(4, ""), TaskKind.SINGLE_LABEL,
                2, 24, new SplittableRandom(3))) {
            Map<String, HostTensor> before = new LinkedHashMap<>();
            m.adapted().encoder().baseParameters().forEach((k, p) -> before.put(k, HostTensor.of(p.getArray())));
            HostTensor prompt = m.adapted().trainableTensors().get("prompt_embeddings");
            assertEquals(List.of("prompt_embeddings"), List.copyOf(m.adapted().trainableParameters().keySet()));
            assertEquals(4 * 16, m.adapted().trainableParameterCount());
            new FineTuner(new TrainingConfig(2, 8, 5e-2, 0.0, 0.0, 1.0, 0, 32, 9), ProgressListener.NONE)
                    .fit(m, train, List.of());
            m.adapted().encoder().baseParameters().forEach((k, p) -> {
                assertTrue(before.get(k).bitEquals(HostTensor.of(p.getArray())), k + " changed");
                assertFalse(p.getArray().hasGradient(), k + " has a gradient");
            });
            assertTrue(prompt.maxAbsDiff(m.adapted().trainableTensors().get("prompt_embeddings")) > 1e-4,
                    "the prompt did not train");
        }
    }

    @Test
    void initTextIsRepeatedToFillTheBudgetAndCutWhenLonger() {
        assertArrayEquals(new long[] {2, 7, 3, 2, 7, 3, 2}, PromptTuningConfig.initTokenIds(new long[] {2, 7, 3}, 7));
        assertArrayEquals(new long[] {2, 7}, PromptTuningConfig.initTokenIds(new long[] {2, 7, 3}, 2));
    }

    @Test
    void initTextStartsTheVirtualTokensAtItsWordEmbeddings() throws Exception {
        Backbone tiny = TinyBert.backbone(5);
        try (TextModel m = TextModel.create(tiny, new PromptTuningConfig(5, "ab"), TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(3))) {
            long[] ids = m.tokenizer().encode(List.of("ab")).ids()[0];
            assertEquals(4, ids.length, "[CLS] a ##b [SEP]");
            HostTensor words = tiny.weights().get("embeddings.word_embeddings.weight");
            HostTensor prompt = m.adapted().trainableTensors().get("prompt_embeddings");
            int hidden = tiny.config().hiddenSize();
            for (int v = 0; v < 5; v++) {
                long id = ids[v % ids.length];
                for (int h = 0; h < hidden; h++) {
                    assertEquals(words.data()[(int) id * hidden + h], prompt.data()[v * hidden + h], "token " + v);
                }
            }
        }
    }

    @Test
    void zeroOrNegativeVirtualTokensAreRefusedByName() {
        for (int n : new int[] {0, -3}) {
            PropertyException e = assertThrows(PropertyException.class, () -> new PromptTuningConfig(n, ""));
            assertEquals("numVirtualTokens", e.getProperty());
            assertTrue(e.getMessage().contains("numVirtualTokens must be at least 1, found " + n), e.getMessage());
        }
    }

    @Test
    void aFolderForAnotherWidthIsRefusedNamingTheFileTheFieldAndBothValues() throws Exception {
        Path dir = Files.createTempDirectory("prompt-width");
        Path folder = dir.resolve("p");
        copy(ROOT.resolve("py_prompt"), folder);
        BertConfig wider = TinyBert.config();
        ModelFileException e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(folder, wider));
        assertEquals(folder.resolve("adapter_config.json").toString(), e.file());
        assertTrue(e.getMessage().contains("token_dim is 32 but the base model's hidden size is 16"), e.getMessage());
    }

    @Test
    void aFolderWhosePromptHasAnotherShapeIsRefusedNamingTheTensor() throws Exception {
        Path dir = Files.createTempDirectory("prompt-count");
        Path folder = dir.resolve("p");
        copy(ROOT.resolve("py_prompt"), folder);
        Path cfg = folder.resolve("adapter_config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"num_virtual_tokens\": 3", "\"num_virtual_tokens\": 4"));
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("base"), Pooling.MEAN);
        ModelFileException e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(folder, base.config()));
        assertEquals(folder.resolve("adapter_model.safetensors").toString(), e.file());
        assertTrue(e.getMessage().contains("tensor 'prompt_embeddings' has shape [3, 32] but the base model needs [4, 32]"),
                e.getMessage());
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        for (String f : new String[] {"adapter_config.json", "adapter_model.safetensors"}) {
            Files.copy(from.resolve(f), to.resolve(f));
        }
    }

    @Test
    void tooManyVirtualTokensForThePositionsAreRefusedNamingBothCounts() throws Exception {
        try (TextModel m = TextModel.create(TinyBert.backbone(5), new PromptTuningConfig(30, ""), TaskKind.SINGLE_LABEL,
                2, 24, new SplittableRandom(3))) {
            TokenBatch b = m.tokenizer().encode(List.of("abcdefghijklmnopqrst"));
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> m.adapted().encoder().encode(manager, b));
                assertEquals("input has " + (30 + b.length()) + " tokens (30 of them virtual) but the model has only 40 "
                        + "positions; lower the maximum length", e.getMessage());
            }
        }
    }

    @Test
    void theEncoderOutputHoldsOnlyTheRealTokensSoPoolingNeverSeesVirtualOnes() throws Exception {
        try (TextModel m = TextModel.create(TinyBert.backbone(5), new PromptTuningConfig(6, ""), TaskKind.SINGLE_LABEL,
                2, 24, new SplittableRandom(3))) {
            TokenBatch b = m.tokenizer().encode(List.of("abc", "a"));
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                assertArrayEquals(new long[] {2, b.length(), 16},
                        m.adapted().encoder().encode(manager, b).getShape().getShape());
            }
        }
    }
}
