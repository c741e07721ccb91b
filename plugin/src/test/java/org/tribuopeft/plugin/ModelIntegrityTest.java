package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.plugin.protos.AdapterModelProto;
import org.tribuopeft.plugin.protos.TensorProto;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A saved AdapterModel carries a SHA-256 over its contents; a file edited at the protobuf level (a NaN head
 * weight, two rows swapped, a changed alpha, another base checksum) is refused naming the file and what is wrong.
 */
class ModelIntegrityTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String QUERY_A = "encoder.layer.0.attention.self.query.lora_A.weight";
    static final List<Example<Label>> TEST = TinyDatasets.examples(8, 2, TinyDatasets::label);

    static AdapterModel<Label> trained;
    static ModelProto saved;

    @BeforeAll
    static void train() {
        trained = new AdapterTrainer<Label>(TinyBert.folder(21).toString(),
                new LoraConfig(4, 8, 0.0, List.of("query", "value")), 24, 8, 1, 5e-3, 3).withProgressSeconds(0)
                .train(TinyDatasets.labels(16, 1));
        saved = trained.serialize();
    }

    @AfterAll
    static void close() {
        trained.close();
    }

    static AdapterModelProto savedContent() throws Exception {
        return saved.getSerializedData().unpack(AdapterModelProto.class);
    }

    /** Writes the saved model with its AdapterModelProto edited (the recorded checksum left as it was). */
    static Path edited(Path dir, int version, UnaryOperator<AdapterModelProto.Builder> edit) throws Exception {
        AdapterModelProto p = edit.apply(savedContent().toBuilder()).build();
        Path file = dir.resolve("model.tribuo");
        Files.write(file, saved.toBuilder().setVersion(version).setSerializedData(Any.pack(p)).build().toByteArray());
        return file;
    }

    static String refusal(Path file) {
        return assertThrows(ModelFileException.class, () -> AdapterModels.load(file)).getMessage();
    }

    static String modified(Path file, AdapterModelProto.Builder edited) {
        return file + ": its contents (trained tensors, method settings, outputs, base reference) have SHA-256 "
                + ModelContentDigest.of(edited.build()) + " but were saved with SHA-256 " + edited.getContentSha256()
                + ": the file was modified or corrupted after it was saved; use an intact copy or train again";
    }

    static TensorProto withFloat(TensorProto t, int index, float value) {
        ByteBuffer b = ByteBuffer.wrap(t.getData().toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(4 * index, value);
        return t.toBuilder().setData(ByteString.copyFrom(b.array())).build();
    }

    static int indexOf(AdapterModelProto.Builder b, String name) {
        for (int i = 0; i < b.getTensorsCount(); i++) {
            if (b.getTensors(i).getName().equals(name)) {
                return i;
            }
        }
        throw new AssertionError("no tensor " + name);
    }

    static void assertSamePredictions(Model<Label> expected, Model<Label> actual) {
        List<Prediction<Label>> a = expected.predict(TEST);
        List<Prediction<Label>> b = actual.predict(TEST);
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getOutputScores().toString(), b.get(i).getOutputScores().toString());
        }
    }

    @Test
    void savedModelRecordsAVerifiableChecksumAndLoadsWithIdenticalPredictions(@TempDir Path tmp) throws Exception {
        AdapterModelProto p = savedContent();
        assertEquals(1, saved.getVersion());
        assertEquals(64, p.getContentSha256().length());
        assertEquals(ModelContentDigest.of(p), p.getContentSha256());
        Path file = tmp.resolve("model.tribuo");
        trained.serializeToFile(file);
        @SuppressWarnings("unchecked")
        AdapterModel<Label> loaded = (AdapterModel<Label>) AdapterModels.load(file);
        assertSamePredictions(trained, loaded);
        loaded.close();
    }

    @Test
    void nanInAHeadWeightIsRefusedNamingTheTensor(@TempDir Path tmp) throws Exception {
        String head = savedContent().getTensorsList().stream().map(TensorProto::getName)
                .filter(n -> n.startsWith("classifier.") && n.endsWith("weight")).findFirst().orElseThrow();
        Path file = edited(tmp, 1, b -> b.setTensors(indexOf(b, head), withFloat(b.getTensors(indexOf(b, head)), 3,
                Float.NaN)));
        assertEquals(file + ": tensor '" + head + "' holds NaN at index 3 (of 32 values, shape [2, 16]); trained "
                + "weights are always finite, so the file is corrupted: use an intact copy or train again",
                refusal(file));
    }

    @Test
    void infinityInAnAdapterTensorIsRefusedNamingTheTensor(@TempDir Path tmp) throws Exception {
        Path file = edited(tmp, 1, b -> b.setTensors(indexOf(b, QUERY_A), withFloat(b.getTensors(indexOf(b, QUERY_A)),
                63, Float.POSITIVE_INFINITY)));
        assertTrue(refusal(file).startsWith(file + ": tensor '" + QUERY_A + "' holds Infinity at index 63 (of 64 "
                + "values, shape [4, 16])"));
    }

    @Test
    void swappedRowsOfATensorAreRefusedAsModified(@TempDir Path tmp) throws Exception {
        AdapterModelProto.Builder[] seen = new AdapterModelProto.Builder[1];
        Path file = edited(tmp, 1, b -> {
            TensorProto t = b.getTensors(indexOf(b, QUERY_A));
            byte[] d = t.getData().toByteArray();
            byte[] swapped = d.clone();
            int row = 16 * 4;
            System.arraycopy(d, 0, swapped, row, row);
            System.arraycopy(d, row, swapped, 0, row);
            seen[0] = b.setTensors(indexOf(b, QUERY_A), t.toBuilder().setData(ByteString.copyFrom(swapped)));
            return b;
        });
        assertEquals(modified(file, seen[0]), refusal(file));
    }

    @Test
    void editedAlphaInTheMethodSettingsIsRefusedAsModified(@TempDir Path tmp) throws Exception {
        JsonNode method = JSON.readTree(savedContent().getMethodProvenanceJson());
        List<ObjectNode> alphas = new ArrayList<>();
        method.findParents("key").forEach(n -> {
            if (n.get("key").asText().equals("alpha")) {
                alphas.add((ObjectNode) n);
            }
        });
        assertEquals(1, alphas.size(), method.toString());
        assertEquals("8.0", alphas.get(0).get("value").asText());
        alphas.get(0).put("value", "16.0");
        AdapterModelProto.Builder[] seen = new AdapterModelProto.Builder[1];
        Path file = edited(tmp, 1, b -> seen[0] = b.setMethodProvenanceJson(method.toString()));
        assertEquals(modified(file, seen[0]), refusal(file));
    }

    @Test
    void editedBaseChecksumIsRefusedAsModified(@TempDir Path tmp) throws Exception {
        AdapterModelProto.Builder[] seen = new AdapterModelProto.Builder[1];
        Path file = edited(tmp, 1, b -> seen[0] = b.setBackbone(b.getBackbone().toBuilder()
                .setWeightsSha256("0".repeat(64))));
        assertEquals(modified(file, seen[0]), refusal(file));
    }

    @Test
    void aVersionOneFileWithoutItsChecksumIsRefused(@TempDir Path tmp) throws Exception {
        Path file = edited(tmp, 1, AdapterModelProto.Builder::clearContentSha256);
        assertEquals(file + ": the file records no content checksum, which every AdapterModel of format version 1 "
                + "has: it was modified or corrupted after it was saved; use an intact copy or train again",
                refusal(file));
    }

    @Test
    void aNewerFormatVersionIsRefusedSayingSo(@TempDir Path tmp) throws Exception {
        Path file = edited(tmp, 2, b -> b);
        assertEquals(file + ": the file records AdapterModel format version 2, but this build reads versions 0 to 1: "
                + "it was saved by a newer tribuo-peft (load it with that version) or the file is corrupted",
                refusal(file));
    }

    @Test
    void aTensorWhoseBytesDoNotFitItsShapeIsRefused(@TempDir Path tmp) throws Exception {
        Path file = edited(tmp, 1, b -> b.setTensors(indexOf(b, QUERY_A), b.getTensors(indexOf(b, QUERY_A)).toBuilder()
                .setShape(1, 8)));
        assertEquals(file + ": tensor '" + QUERY_A + "' has 256 bytes but its shape [4, 8] needs 128; the file is "
                + "corrupted: use an intact copy or train again", refusal(file));
    }

    @Test
    void aVersionZeroFileWithoutChecksumStillLoadsWithOneNoteOnStderr(@TempDir Path tmp) throws Exception {
        Path file = edited(tmp, 0, AdapterModelProto.Builder::clearContentSha256);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        AdapterModel.UNVERIFIED_NOTE_PRINTED.set(false);
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            for (int i = 0; i < 2; i++) {
                @SuppressWarnings("unchecked")
                AdapterModel<Label> loaded = (AdapterModel<Label>) AdapterModels.load(file);
                assertSamePredictions(trained, loaded);
                loaded.close();
            }
        } finally {
            System.setErr(err);
        }
        assertEquals("NOTE: this model was saved by an older tribuo-peft (format version 0) without a content "
                + "checksum, so its weights and settings cannot be verified; save it again (Model.serializeToFile) to "
                + "add one\n", captured.toString(StandardCharsets.UTF_8));
    }
}
