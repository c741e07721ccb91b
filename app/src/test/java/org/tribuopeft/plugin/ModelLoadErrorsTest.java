package org.tribuopeft.plugin;

import com.google.protobuf.Any;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.classification.baseline.DummyClassifierTrainer;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.plugin.protos.AdapterModelProto;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way loading a model file can fail is reported with the file, the root cause and what to do, both by the
 * Java loader ({@link AdapterModels}) and by the command line, never as Tribuo's "the deserialization method
 * threw an exception" or a bare protobuf message.
 */
class ModelLoadErrorsTest {
    @TempDir
    static Path shared;
    static Path base;
    static ModelProto saved;

    @BeforeAll
    static void train() throws Exception {
        base = copyOfTinyBase(shared.resolve("base"));
        AdapterModel<Label> model = new AdapterTrainer<Label>(base.toString(),
                new LoraConfig(4, 8, 0.0, List.of("query")), 24, 8, 1, 5e-3, 1).withProgressSeconds(0)
                .train(TinyDatasets.labels(16, 1));
        saved = model.serialize();
        model.close();
    }

    @AfterAll
    static void forget() {
        saved = null;
    }

    static Path copyOfTinyBase(Path dir) throws Exception {
        Files.createDirectories(dir);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(TinyBert.folder(21).resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }

    /** The saved model, re-pointed at another copy of its base and re-checksummed as a save there would. */
    static Path savedWithBaseAt(Path dir, Path newBase) throws Exception {
        AdapterModelProto.Builder b = saved.getSerializedData().unpack(AdapterModelProto.class).toBuilder();
        b.setBackbone(b.getBackbone().toBuilder().setLocation(newBase.toString()));
        b.setContentSha256(ModelContentDigest.of(b.build()));
        Path file = dir.resolve("model.tribuo");
        Files.write(file, saved.toBuilder().setSerializedData(Any.pack(b.build())).build().toByteArray());
        return file;
    }

    static String loaderMessage(Path file) {
        return assertThrows(ModelFileException.class, () -> AdapterModels.load(file)).getMessage();
    }

    /** Runs {@code provenance --model file} and returns its stderr, checking the exit code is 1. */
    static String cliError(Path file) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = org.tribuopeft.cli.TribuoPeftCli.run(new String[] {"provenance", "--model", file.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, text);
        assertFalse(text.contains("deserialization method"), text);
        return text;
    }

    /** The loader and the command line both give {@code expected}, the CLI as one "error: " line. */
    static void assertBothSay(Path file, String expected) {
        assertEquals(expected, loaderMessage(file));
        assertEquals("error: " + expected + System.lineSeparator(), cliError(file));
    }

    @Test
    void anEmptyFileIsReportedAsEmpty(@TempDir Path tmp) throws Exception {
        Path file = Files.write(tmp.resolve("model.tribuo"), new byte[0]);
        assertBothSay(file, file + ": is empty (0 bytes): the save was interrupted or the copy failed; copy it again or "
                + "train again");
    }

    @Test
    void aTruncatedFileIsReportedAsTruncatedNamingItsModelClass(@TempDir Path tmp) throws Exception {
        byte[] whole = saved.toByteArray();
        Path file = Files.write(tmp.resolve("model.tribuo"), Arrays.copyOf(whole, whole.length / 2));
        assertBothSay(file, file + ": is a truncated org.tribuopeft.plugin.AdapterModel file: it ends after "
                + whole.length / 2 + " bytes, in the middle of its data (an interrupted save, copy or download); copy "
                + "it again or train again");
    }

    @Test
    void aFileCutJustAfterTheClassNameIsReportedAsTruncated(@TempDir Path tmp) throws Exception {
        byte[] header = saved.toBuilder().clearSerializedData().build().toByteArray();
        Path file = Files.write(tmp.resolve("model.tribuo"), header);
        assertBothSay(file, file + ": is a damaged org.tribuopeft.plugin.AdapterModel file (" + header.length
                + " bytes): it ends before the model data, so it was truncated (an interrupted save, copy or download); "
                + "copy it again or train again");
    }

    @Test
    void aFileThatIsNotProtobufIsReportedAsNotATribuoModel(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("model.tribuo"), "{\"text\": \"this is JSON, not a model\"}\n");
        String message = loaderMessage(file);
        assertTrue(message.startsWith(file + ": is not a Tribuo model file: its bytes are not a Tribuo ModelProto "
                + "(protobuf: "), message);
        assertTrue(message.endsWith("); a model file is the model.tribuo that 'train --output' or "
                + "Model.serializeToFile writes"), message);
        assertEquals("error: " + message + System.lineSeparator(), cliError(file));
    }

    @Test
    void aProtobufWithoutAModelClassIsReportedAsNotATribuoModel(@TempDir Path tmp) throws Exception {
        Path file = Files.write(tmp.resolve("model.tribuo"), ModelProto.newBuilder().setVersion(3).build().toByteArray());
        assertBothSay(file, file + ": is not a Tribuo model file: it names no model class (a model file is the "
                + "model.tribuo that 'train --output' or Model.serializeToFile writes)");
    }

    @Test
    void aModelClassMissingFromTheClasspathIsNamed(@TempDir Path tmp) throws Exception {
        Path file = Files.write(tmp.resolve("model.tribuo"), saved.toBuilder().setClassName("org.example.GoneModel")
                .build().toByteArray());
        assertBothSay(file, file + ": holds a model of class org.example.GoneModel, which is not on the classpath: add "
                + "the library that defines it, or, if this should be a tribuo-peft model, the file is corrupted");
    }

    @Test
    void aTribuoModelOfAnotherKindLoadsButIsNamedWhereAnAdapterModelIsNeeded(@TempDir Path tmp) throws Exception {
        Model<Label> dummy = DummyClassifierTrainer.createMostFrequentTrainer().train(TinyDatasets.labels(8, 1));
        Path file = tmp.resolve("dummy.tribuo");
        dummy.serializeToFile(file);
        assertEquals(dummy.getClass(), AdapterModels.load(file).getClass());
        assertEquals(file + ": holds a org.tribuo.classification.baseline.DummyClassifierModel (a Tribuo model of "
                + "another kind), not an AdapterModel; this needs a model trained by tribuo-peft's AdapterTrainer",
                assertThrows(ModelFileException.class, () -> AdapterModels.loadAdapterModel(file)).getMessage());
    }

    @Test
    void aFolderIsReportedWithTheModelFileInside(@TempDir Path tmp) throws Exception {
        Files.write(tmp.resolve("model.tribuo"), saved.toByteArray());
        assertBothSay(tmp, tmp + ": is a folder; the model in it is " + tmp.resolve("model.tribuo"));
    }

    @Test
    void aByteChangedInTheMiddleIsReportedAsModified(@TempDir Path tmp) throws Exception {
        byte[] bytes = saved.toByteArray();
        // the last tensor's data sits near the end; the byte is part of a float, so the file still parses
        bytes[bytes.length - 200] ^= 0x01;
        Path file = Files.write(tmp.resolve("model.tribuo"), bytes);
        String message = loaderMessage(file);
        assertTrue(message.startsWith(file + ": its contents (trained tensors, method settings, outputs, base "
                + "reference) have SHA-256 "), message);
        assertTrue(message.endsWith(": the file was modified or corrupted after it was saved; use an intact copy or "
                + "train again"), message);
        assertEquals("error: " + message + System.lineSeparator(), cliError(file));
    }

    @Test
    void aDifferentBaseIsReportedWithBothHashesItsPathAndBothWaysOut(@TempDir Path tmp) throws Exception {
        Path otherBase = copyOfTinyBase(tmp.resolve("base"));
        Path file = savedWithBaseAt(tmp, otherBase);
        Path weights = otherBase.resolve("model.safetensors");
        String recorded = Sha256.ofFile(weights);
        Files.copy(TinyBert.folder(22).resolve("model.safetensors"), weights, StandardCopyOption.REPLACE_EXISTING);
        assertBothSay(file, file + ": the base model's weights file " + weights + " has SHA-256 " + Sha256.ofFile(weights)
                + " but the model was trained on SHA-256 " + recorded + ". Restore the original base model at that "
                + "place, or point to a copy of the original with -Dtribuopeft.backbone.location=<path>; "
                + "-Dtribuopeft.backbone.allowMismatch=true uses this one anyway, and its predictions will differ from "
                + "the trained model's");
    }

    @Test
    void aMissingBaseIsReportedWithItsPathAndHowToPointToIt(@TempDir Path tmp) throws Exception {
        Path gone = tmp.resolve("gone");
        Path file = savedWithBaseAt(tmp, gone);
        String message = loaderMessage(file);
        String recorded = saved.getSerializedData().unpack(AdapterModelProto.class).getBackbone().getWeightsSha256();
        assertTrue(message.startsWith(file + ": cannot load the base model this model was trained on from '" + gone
                + "': "), message);
        assertTrue(message.endsWith(". Put the base model (SHA-256 " + recorded + ") back at '" + gone + "', or, if it "
                + "moved, point to it with -Dtribuopeft.backbone.location=<path>"), message);
        assertEquals("error: " + message + System.lineSeparator(), cliError(file));
    }

    @Test
    void aWrongLocationOverrideIsNamedAsTheOverride(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("model.tribuo");
        Files.write(file, saved.toByteArray());
        System.setProperty(BackboneReference.LOCATION_OVERRIDE, tmp.resolve("elsewhere").toString());
        try {
            String message = loaderMessage(file);
            assertTrue(message.startsWith(file + ": cannot load the base model this model was trained on from '"
                    + tmp.resolve("elsewhere") + "' (given by -Dtribuopeft.backbone.location; recorded: '" + base
                    + "'): "), message);
        } finally {
            System.clearProperty(BackboneReference.LOCATION_OVERRIDE);
        }
    }

    @Test
    void aDamagedAdapterInsideAMultiAdapterModelIsReportedByItsRootCause(@TempDir Path tmp) throws Exception {
        Path single = tmp.resolve("single.tribuo");
        Files.write(single, saved.toByteArray());
        @SuppressWarnings("unchecked")
        AdapterModel<Label> adapter = (AdapterModel<Label>) AdapterModels.load(single);
        MultiAdapterModel<Label> multi = MultiAdapterModel.of("multi",
                new java.util.LinkedHashMap<>(java.util.Map.of("a", adapter)), "team");
        ModelProto proto = multi.serialize();
        multi.close();
        adapter.close();
        var content = proto.getSerializedData().unpack(org.tribuopeft.plugin.protos.MultiAdapterModelProto.class);
        byte[] inner = content.getAdapters(0).getModel().toByteArray();
        inner[inner.length - 200] ^= 0x01;
        var damaged = content.toBuilder().setAdapters(0, content.getAdapters(0).toBuilder()
                .setModel(com.google.protobuf.ByteString.copyFrom(inner))).build();
        Path file = Files.write(tmp.resolve("multi.tribuo"),
                proto.toBuilder().setSerializedData(Any.pack(damaged)).build().toByteArray());
        String message = loaderMessage(file);
        assertTrue(message.startsWith(file + ": its contents (trained tensors, method settings, outputs, base "
                + "reference) have SHA-256 "), message);
        assertTrue(message.endsWith(": the file was modified or corrupted after it was saved; use an intact copy or "
                + "train again"), message);
        assertEquals("error: " + message + System.lineSeparator(), cliError(file));
    }
}
