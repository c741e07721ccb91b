package org.tribuopeft.adapters.backbone;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.testing.TinyBert;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every kind of bad model input fails with a ModelFileException naming the file and the fault. */
class ModelFileErrorsTest {

    private static Path copyTiny(Path tmp) throws Exception {
        Path folder = tmp.resolve("tiny");
        Files.createDirectories(folder);
        try (var files = Files.list(TinyBert.folder(11))) {
            for (Path f : files.toList()) {
                Files.copy(f, folder.resolve(f.getFileName()));
            }
        }
        return folder;
    }

    private static ModelFileException expectFailure(Path folder) {
        return assertThrows(ModelFileException.class, () -> Backbone.fromHfFolder(folder, Pooling.MEAN));
    }

    @Test
    void missingFolderIsNamed(@TempDir Path tmp) {
        Path missing = tmp.resolve("nowhere");
        ModelFileException e = expectFailure(missing);
        assertEquals(missing.toString(), e.file());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void missingWeightsFileIsNamed(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Files.delete(folder.resolve("model.safetensors"));
        ModelFileException e = expectFailure(folder);
        assertEquals(folder.resolve("model.safetensors").toString(), e.file());
    }

    @Test
    void missingTokenizerIsNamed(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Files.delete(folder.resolve("tokenizer.json"));
        ModelFileException e = expectFailure(folder);
        assertEquals(folder.resolve("tokenizer.json").toString(), e.file());
    }

    @Test
    void truncatedOnnxIsReportedAsTruncated(@TempDir Path tmp) throws Exception {
        byte[] head;
        try (InputStream in = BundledModel.open(BundledModel.ALL_MINILM_L6_V2.onnxResource())) {
            head = in.readNBytes(5_000_000);
        }
        Path onnx = tmp.resolve("cut.onnx");
        Files.write(onnx, head);
        Path tok = tmp.resolve("tokenizer.json");
        Files.write(tok, TinyBert.tokenizerJson());
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> Backbone.fromOnnx(onnx, tok, Pooling.MEAN));
        assertEquals(onnx.toString(), e.file());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void nonOnnxBytesAreRejected(@TempDir Path tmp) throws Exception {
        Path onnx = tmp.resolve("text.onnx");
        Files.writeString(onnx, "this is not a protobuf at all");
        Path tok = tmp.resolve("tokenizer.json");
        Files.write(tok, TinyBert.tokenizerJson());
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> Backbone.fromOnnx(onnx, tok, Pooling.MEAN));
        assertEquals(onnx.toString(), e.file());
    }

    @Test
    void offsetsPastTheEndOfTheFileAreRejected(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Path st = folder.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        Files.write(st, Arrays.copyOf(bytes, bytes.length - 100));
        ModelFileException e = expectFailure(folder);
        assertEquals(st.toString(), e.file());
        assertTrue(e.getMessage().contains("run past the end"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor 'encoder.layer.1.output.LayerNorm."), e.getMessage());
    }

    @Test
    void absurdHeaderLengthIsRejected(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Path st = folder.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(st);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 60);
        Files.write(st, bytes);
        ModelFileException e = expectFailure(folder);
        assertEquals(st.toString(), e.file());
        assertTrue(e.getMessage().contains("not plausible"), e.getMessage());
    }

    @Test
    void headerLongerThanTheFileIsRejected(@TempDir Path tmp) throws Exception {
        Path st = tmp.resolve("short.safetensors");
        byte[] bytes = new byte[64];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
        Files.write(st, bytes);
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> org.tribuopeft.adapters.io.SafetensorsReader.read(st));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void shapesThatDisagreeWithConfigJsonAreRejected(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Path config = folder.resolve("config.json");
        editConfig(config, "intermediate_size", 24);
        ModelFileException e = expectFailure(folder);
        assertTrue(e.getMessage().contains("encoder.layer.0.intermediate.dense.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[32, 16]") && e.getMessage().contains("[24, 16]"), e.getMessage());
        assertTrue(e.getMessage().contains("intermediate_size=24"), e.getMessage());
    }

    @Test
    void unknownDtypeIsNamed(@TempDir Path tmp) throws Exception {
        Path st = tmp.resolve("odd.safetensors");
        writeRaw(st, "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,2]}}", new byte[2]);
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> org.tribuopeft.adapters.io.SafetensorsReader.read(st));
        assertTrue(e.getMessage().contains("unknown dtype 'Q4_K'"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor 'w'"), e.getMessage());
    }

    @Test
    void missingConfigFieldIsNamed(@TempDir Path tmp) throws Exception {
        Path folder = copyTiny(tmp);
        Path config = folder.resolve("config.json");
        editConfig(config, "num_attention_heads", null);
        ModelFileException e = expectFailure(folder);
        assertEquals(config.toString(), e.file());
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
    }

    static void editConfig(Path config, String field, Integer value) throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(config.toFile());
        if (value == null) {
            root.remove(field);
        } else {
            root.put(field, value);
        }
        Files.writeString(config, root.toString());
    }

    static void writeRaw(Path file, String header, byte[] data) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Files.write(file, buf.array());
    }
}
