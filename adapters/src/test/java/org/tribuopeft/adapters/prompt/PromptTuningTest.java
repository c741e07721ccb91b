package org.tribuopeft.adapters.prompt;

import ai.djl.ndarray.NDManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
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
 * Prompt tuning: training that moves only the virtual tokens and leaves the backbone bit-identical, PEFT's text
 * initialisation, and clear errors (the folders both ways with Python PEFT are in {@code PromptLearningFoldersTest}).
 */
class PromptTuningTest {
    static final Path ROOT = Paths.get("src", "test", "resources", "peft-python", "prompt");

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
        Backbone base = Backbone.fromHfFolder(ROOT.resolve("..").resolve("base"), Pooling.MEAN);
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
    void tooManyVirtualTokensForThePositionsAreRefusedBeforeTrainingNamingBothCounts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextModel.create(
                TinyBert.backbone(5), new PromptTuningConfig(30, ""), TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3)));
        assertEquals("maxLength 24 plus the method's 30 virtual positions is more than the model's 40 positions; "
                + "lower maxLength to at most 10 or use fewer virtual tokens", e.getMessage());
    }

    @Test
    void anInputLongerThanThePositionsLeftIsRefusedNamingTheVirtualTokens() throws Exception {
        Backbone tiny = TinyBert.backbone(5);
        try (NDManager manager = TorchRuntime.engine().newBaseManager();
             TextModel m = TextModel.create(tiny, new PromptTuningConfig(30, ""), TaskKind.SINGLE_LABEL, 2, 10,
                     new SplittableRandom(3))) {
            TokenBatch b = new TokenBatch(new long[1][12], new long[1][12], new long[1][12]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.adapted().encoder().encode(manager, b));
            assertEquals("input has 42 tokens (30 of them virtual) but the model has only 40 positions; lower the "
                    + "maximum length", e.getMessage());
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
