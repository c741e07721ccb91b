package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.provenance.replay.ModelReplayer;
import org.tribuopeft.provenance.replay.ReplayRefusedException;
import org.tribuopeft.provenance.replay.ReplayReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models trained on real text from a CSV file are reproduced bit for bit from their provenance alone;
 * a changed data file or base model stops the replay with both checksums.
 */
class ReplayTest {

    /** 48 real IMDB reviews as a CSV with text and label columns. */
    static Path imdbCsv(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder("text,label\n");
        for (ImdbReviews.Review r : ImdbReviews.shuffled(NpmCache.fromEnvironment(), 77).subList(0, 48)) {
            sb.append('"').append(r.text().replace("\"", "\"\"")).append("\",")
                    .append(r.positive() ? "positive" : "negative").append('\n');
        }
        return Files.writeString(dir.resolve("imdb-48.csv"), sb.toString());
    }

    @SuppressWarnings("unchecked")
    static AdapterModel<Label> train(Path csv, String backbone, String method) throws Exception {
        ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", MethodSwitchingTest.configPath(),
            "--@trainer.method", method, "--@trainer.backbone", backbone, "--@csv.dataPath", csv.toString(),
            "--@trainer.maxLength", backbone.startsWith("all-minilm") ? "64" : "32", "--@trainer.batchSize", "12", "--@trainer.learningRate", "0.001"});
        TextPipeline<Label> pipeline = (TextPipeline<Label>) cm.lookup("pipeline");
        return (AdapterModel<Label>) pipeline.run().model();
    }

    @Test
    void loraDoraAndAdaLoraOnRealMiniLmReplayBitIdentically(@TempDir Path tmp) throws Exception {
        Path csv = imdbCsv(tmp);
        for (String method : List.of("lora", "dora", "adalora")) {
            AdapterModel<Label> original = train(csv, "all-minilm-l6-v2", method);
            ModelReplayer.Result<Label> r = Replays.replay(original);
            String report = r.report().render();
            System.out.print(method + " " + report);
            assertTrue(r.report().bitIdentical(), method + ":\n" + report);
            assertEquals(0.0, r.report().maxAbsDiff());
            assertTrue(report.contains("BIT-IDENTICAL"));
            assertTrue(r.report().unexpectedDifferences().isEmpty(), report);
            // the report spans both models' tensor names, so equal names here mean neither side has an extra tensor
            assertEquals(new java.util.TreeSet<>(original.trainedTensors().keySet()), r.report().tensors().stream()
                    .map(ReplayReport.TensorDiff::name).collect(java.util.stream.Collectors.toCollection(
                            java.util.TreeSet::new)));
            assertEquals(original.trainedTensors().keySet(),
                    ((AdapterModel<Label>) r.replayed()).trainedTensors().keySet());
            original.close();
            ((AdapterModel<Label>) r.replayed()).close();
        }
    }

    @Test
    void changingOneByteOfTheDataFileMakesReplayRefuse(@TempDir Path tmp) throws Exception {
        Path csv = imdbCsv(tmp);
        AdapterModel<Label> original = train(csv, TinyBert.folder(21).toString(), "lora");
        String before = Sha256.ofFile(csv);
        byte[] bytes = Files.readAllBytes(csv);
        bytes[bytes.length / 2] = (byte) (bytes[bytes.length / 2] == 'a' ? 'b' : 'a');
        Files.write(csv, bytes);
        ReplayRefusedException e = assertThrows(ReplayRefusedException.class, () -> Replays.replay(original));
        assertTrue(e.getMessage().contains(csv.toString()), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains(before), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains(Sha256.ofFile(csv)), e.getMessage());
        original.close();
    }

    @Test
    void swappingTheBaseModelMakesReplayRefuse(@TempDir Path tmp) throws Exception {
        Path csv = imdbCsv(tmp);
        Path base = tmp.resolve("base");
        Files.createDirectories(base);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(TinyBert.folder(21).resolve(f), base.resolve(f));
        }
        AdapterModel<Label> original = train(csv, base.toString(), "lora");
        Path weights = base.resolve("model.safetensors");
        String before = Sha256.ofFile(weights);
        Files.copy(TinyBert.folder(22).resolve("model.safetensors"), weights,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ReplayRefusedException e = assertThrows(ReplayRefusedException.class, () -> Replays.replay(original));
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(before) && e.getMessage().contains(Sha256.ofFile(weights)), e.getMessage());
        original.close();
    }

    @Test
    void provenanceJsonRoundTripsToAnEqualProvenance(@TempDir Path tmp) throws Exception {
        Path csv = imdbCsv(tmp);
        AdapterModel<Label> model = train(csv, TinyBert.folder(21).toString(), "adalora");
        Path json = tmp.resolve("provenance.json");
        Files.writeString(json, new JsonProvenanceSerialization(true).marshalAndSerialize(model.getProvenance()));
        ModelProvenance back = (ModelProvenance) new JsonProvenanceSerialization(true)
                .deserializeAndUnmarshal(Files.readString(json));
        assertEquals(model.getProvenance(), back);
        assertTrue(Files.readString(json).contains("rank-pattern"));
        model.close();
    }
}
