package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backbone written as a Hugging Face folder and read back is the same model. */
class HfFolderRoundTripTest {

    @Test
    void miniLmWrittenAsFolderGivesIdenticalOutputs(@TempDir Path tmp) throws Exception {
        Backbone original = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        Path folder = tmp.resolve("minilm");
        original.writeHfFolder(folder);
        assertTrue(Files.exists(folder.resolve("config.json")));
        assertTrue(Files.exists(folder.resolve("tokenizer.json")));

        Backbone reloaded = Backbone.fromHfFolder(folder, Pooling.MEAN);
        assertEquals(original.config(), reloaded.config());
        assertEquals(original.weights().contentSha256(), reloaded.weights().contentSha256());
        assertEquals(original.tokenizerSha256(), reloaded.tokenizerSha256());
        assertEquals(BackboneSource.Kind.HF_FOLDER, reloaded.source().kind());

        try (NDManager manager = TorchRuntime.engine().newBaseManager();
             TextTokenizer tokA = original.tokenizer(48);
             TextTokenizer tokB = reloaded.tokenizer(48)) {
            TokenBatch a = tokA.encode(BertEncoderParityTest.SENTENCES);
            TokenBatch b = tokB.encode(BertEncoderParityTest.SENTENCES);
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.ids()[i], b.ids()[i], "token ids of sentence " + i);
            }
            float[] outA = original.createEncoder(manager).encode(manager, a).toFloatArray();
            float[] outB = reloaded.createEncoder(manager).encode(manager, b).toFloatArray();
            assertArrayEquals(outA, outB, 0f, "outputs after the folder round trip");
        }
    }

    @Test
    void writtenSafetensorsCarryPtFormatMetadataAndBertModelNames(@TempDir Path tmp) throws Exception {
        Backbone tiny = TinyBert.backbone(7);
        Path folder = tmp.resolve("tiny");
        tiny.writeHfFolder(folder);
        SafetensorsReader.Content c = SafetensorsReader.read(folder.resolve("model.safetensors"));
        assertEquals(Map.of("format", "pt"), c.metadata());
        assertTrue(c.entries().containsKey("encoder.layer.1.attention.self.query.weight"));
        assertEquals(BertWeights.expectedShapes(tiny.config()).size(), c.entries().size());
    }

    @Test
    void bertPrefixedCheckpointKeysAreAccepted(@TempDir Path tmp) throws Exception {
        Backbone tiny = TinyBert.backbone(3);
        Path folder = tmp.resolve("prefixed");
        Files.createDirectories(folder);
        Map<String, org.tribuopeft.adapters.tensor.HostTensor> prefixed = new java.util.LinkedHashMap<>();
        tiny.weights().tensors().forEach((k, v) -> prefixed.put("bert." + k, v));
        prefixed.put("classifier.weight", new org.tribuopeft.adapters.tensor.HostTensor(new long[] {2, 16},
                new float[32]));
        org.tribuopeft.adapters.io.SafetensorsWriter.write(folder.resolve("model.safetensors"), prefixed, Map.of());
        Files.writeString(folder.resolve("config.json"), tiny.config().toHfJson().toString());
        Files.write(folder.resolve("tokenizer.json"), tiny.tokenizerJson());
        Backbone reloaded = Backbone.fromHfFolder(folder, Pooling.CLS);
        assertEquals(tiny.weights().contentSha256(), reloaded.weights().contentSha256());
    }
}
