package org.tribuopeft.adapters.prefix;

import ai.djl.ndarray.NDManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.HiddenActivation;
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
 * Prefix tuning: training (with and without PEFT's projection) moves only the prefix and leaves the backbone
 * bit-identical, a projected prefix saves as the keys and values it produces, and folders for another base
 * are refused naming the file, the field and both values (interop with Python PEFT is in
 * {@code PromptLearningFoldersTest}).
 */
class PrefixTuningTest {
    static final Path FIXTURES = Paths.get("src", "test", "resources", "peft-python", "prompt");

    private static TextModel tiny(PrefixTuningConfig method) throws Exception {
        return TextModel.create(TinyBert.backbone(5), method, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3));
    }

    @Test
    void trainingMovesOnlyThePrefixAndLeavesTheBackboneBitIdentical() throws Exception {
        for (PrefixTuningConfig method : List.of(new PrefixTuningConfig(4, false, 0), new PrefixTuningConfig(4, true, 8))) {
            try (TextModel m = tiny(method)) {
                Map<String, HostTensor> before = new LinkedHashMap<>();
                m.adapted().encoder().baseParameters().forEach((k, p) -> before.put(k, HostTensor.of(p.getArray())));
                Map<String, HostTensor> prefixBefore = m.adapted().trainableTensors();
                new FineTuner(new TrainingConfig(2, 8, 5e-2, 0.0, 0.0, 1.0, 0, 32, 9), ProgressListener.NONE)
                        .fit(m, SyntheticTexts.twoClass(32, 1), List.of());
                m.adapted().encoder().baseParameters().forEach((k, p) -> {
                    assertTrue(before.get(k).bitEquals(HostTensor.of(p.getArray())), method + ": " + k + " changed");
                    assertFalse(p.getArray().hasGradient(), method + ": " + k + " has a gradient");
                });
                Map<String, HostTensor> after = m.adapted().trainableTensors();
                prefixBefore.forEach((k, t) -> assertTrue(t.maxAbsDiff(after.get(k)) > 1e-5, method + ": " + k + " did not train"));
            }
        }
    }

    @Test
    void trainableValuesAreTheTableOrTheProjection() throws Exception {
        // TinyBert: 2 layers, hidden 16, 4 heads
        try (TextModel m = tiny(new PrefixTuningConfig(4, false, 0))) {
            assertEquals(4 * 2 * 2 * 16, m.adapted().trainableParameterCount());
            assertArrayEquals(new long[] {4, 2, 2, 4, 4},
                    m.adapted().trainableTensors().get(PrefixTuningConfig.PROMPT_EMBEDDINGS).shape());
        }
        try (TextModel m = tiny(new PrefixTuningConfig(4, true, 8))) {
            assertEquals(4 * 16 + (8 * 16 + 8) + (64 * 8 + 64), m.adapted().trainableParameterCount());
        }
    }

    @Test
    void aProjectedPrefixSavesTheKeysAndValuesItProduces() throws Exception {
        try (TextModel m = tiny(new PrefixTuningConfig(3, true, 8))) {
            TokenBatch batch = m.tokenizer().encode(List.of("abc de", "f"));
            float[] trained;
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                trained = m.adapted().encoder().encode(manager, batch).toFloatArray();
            }
            Path dir = Files.createTempDirectory("prefix-proj").resolve("a");
            PeftAdapter adapter = new PeftAdapter(m.adapted().method(), m.adapted().trainableTensors(), Map.of(), "tiny",
                    Map.of(), PeftKeyStyle.BARE_ENCODER);
            PeftAdapterWriter.write(dir, adapter, PeftKeyStyle.BARE_ENCODER, Map.of());
            PeftAdapter read = PeftAdapterReader.read(dir, TinyBert.config());
            assertEquals(List.of(PrefixTuningConfig.PROMPT_EMBEDDINGS), List.copyOf(read.tensors().keySet()));
            assertFalse(((PrefixTuningConfig) read.method()).prefixProjection());
            try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                AdaptedEncoder loaded = read.method().apply(TinyBert.backbone(5).createEncoder(manager),
                        new SplittableRandom(1));
                loaded.loadTrainableTensors(read.tensors());
                float[] fromFolder = loaded.encoder().encode(manager, batch).toFloatArray();
                double max = 0;
                for (int i = 0; i < trained.length; i++) {
                    max = Math.max(max, Math.abs(trained[i] - fromFolder[i]));
                }
                assertTrue(max <= 1e-5, "the saved keys and values differ from the projection's by " + max);
            }
        }
    }

    @Test
    void zeroOrNegativeVirtualTokensAreRefusedByName() {
        for (int n : new int[] {0, -1}) {
            PropertyException e = assertThrows(PropertyException.class, () -> new PrefixTuningConfig(n, false, 0));
            assertEquals("numVirtualTokens", e.getProperty());
            assertTrue(e.getMessage().contains("numVirtualTokens must be at least 1, found " + n), e.getMessage());
        }
    }

    @Test
    void aFolderForAnotherLayerCountIsRefusedNamingTheFileTheFieldAndBothValues() throws Exception {
        Backbone python = Backbone.fromHfFolder(FIXTURES.resolve("..").resolve("base"), Pooling.MEAN);
        BertConfig c = python.config();
        BertConfig threeLayers = new BertConfig(c.vocabSize(), c.hiddenSize(), 3, c.numHeads(), c.intermediateSize(),
                c.maxPositions(), 2, 1e-12, HiddenActivation.GELU, 0.1, 0.1);
        Path folder = FIXTURES.resolve("py_prefix");
        ModelFileException e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(folder, threeLayers));
        assertEquals(folder.resolve("adapter_config.json").toString(), e.file());
        assertTrue(e.getMessage().contains("num_layers is 2 but the base model's layer count is 3"), e.getMessage());
    }

    @Test
    void aFolderForAnotherWidthIsRefusedNamingTheFileTheFieldAndBothValues() {
        Path folder = FIXTURES.resolve("py_prefix");
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> PeftAdapterReader.read(folder, TinyBert.config()));
        assertEquals(folder.resolve("adapter_config.json").toString(), e.file());
        assertTrue(e.getMessage().contains("token_dim is 32 but the base model's hidden size is 16"), e.getMessage());
    }
}
