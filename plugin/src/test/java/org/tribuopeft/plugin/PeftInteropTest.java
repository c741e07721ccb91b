package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A Tribuo model goes out as a PEFT folder and comes back as an identical Tribuo model, or trains on from it. */
class PeftInteropTest {
    static final List<Example<Label>> TEST = TinyDatasets.examples(16, 2, TinyDatasets::label);

    static void assertSamePredictions(AdapterModel<Label> a, AdapterModel<Label> b) {
        List<Prediction<Label>> pa = a.predict(TEST);
        List<Prediction<Label>> pb = b.predict(TEST);
        for (int i = 0; i < pa.size(); i++) {
            assertEquals(pa.get(i).getOutput().getLabel(), pb.get(i).getOutput().getLabel());
            for (Map.Entry<String, Label> e : pa.get(i).getOutputScores().entrySet()) {
                assertEquals(e.getValue().getScore(), pb.get(i).getOutputScores().get(e.getKey()).getScore(), 0.0,
                        "example " + i + " label " + e.getKey());
            }
        }
    }

    @Test
    void exportedFoldersImportToModelsWithIdenticalPredictions(@TempDir Path tmp) throws Exception {
        List<AdapterMethod> methods = List.of(new LoraConfig(4, 8, 0.1, List.of("query", "value")),
                new DoraConfig(4, 8, 0.1, List.of("query", "value")), new AdaLoraConfig(4, 2, 8, List.of("query", "value")));
        int i = 0;
        for (AdapterMethod m : methods) {
            AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(m).train(TinyDatasets.labels(32, 1));
            Path dir = tmp.resolve("peft" + i++);
            AdapterExports.writePeft(model, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);
            AdapterModel<Label> imported = PeftImport.load(dir, AdapterModelSerializationTest.TINY);
            assertEquals(model.method().getClass(), imported.method().getClass());
            assertSamePredictions(model, imported);
            assertTrue(imported.getProvenance().getInstanceProvenance().getMap()
                    .containsKey("tribuo-peft.imported-weights-sha256"));
            model.close();
            imported.close();
        }
    }

    @Test
    void regressionFolderImportsWithDimensionNamesAndIdenticalPredictions(@TempDir Path tmp) throws Exception {
        AdapterModel<Regressor> model = AdapterModelSerializationTest.<Regressor>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.regression(32, 1));
        Path dir = tmp.resolve("peft-regression");
        AdapterExports.writePeft(model, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);
        assertEquals(List.of("length", "score"), AdapterExports.outputs(AdapterExports.readSidecar(dir)));
        AdapterModel<Regressor> imported = PeftImport.load(dir, AdapterModelSerializationTest.TINY);
        List<Example<Regressor>> test = TinyDatasets.examples(8, 2, TinyDatasets::regressor);
        List<Prediction<Regressor>> pa = model.predict(test);
        List<Prediction<Regressor>> pb = imported.predict(test);
        for (int i = 0; i < pa.size(); i++) {
            assertEquals(pa.get(i).getOutput(), pb.get(i).getOutput(), "example " + i);
        }
        model.close();
        imported.close();
    }

    @Test
    void continuedTrainingStartsFromTheAdapterAndKeepsItTrainable(@TempDir Path tmp) throws Exception {
        LoraConfig lora = new LoraConfig(4, 8, 0.1, List.of("query", "value"));
        AdapterModel<Label> first = AdapterModelSerializationTest.<Label>trainer(lora).train(TinyDatasets.labels(32, 1));
        Path dir = tmp.resolve("start");
        AdapterExports.writePeft(first, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);

        var cm = new com.oracle.labs.mlrg.olcut.config.ConfigurationManager(new String[] {"-c",
            MethodSwitchingTest.configPath(), "--@trainer.backbone", AdapterModelSerializationTest.TINY,
            "--@trainer.initialAdapter", dir.toString(), "--@trainer.learningRate", "1e-9", "--@lora.dropout", "0.1",
            "--@csv.dataPath",
            CsvTexts.write(tmp.resolve("t.csv"), 32, 1).toString()});
        @SuppressWarnings("unchecked")
        AdapterTrainer<Label> trainer = (AdapterTrainer<Label>) cm.lookup("trainer");
        AdapterModel<Label> continued = trainer.train(TinyDatasets.labels(32, 1));
        // with a near-zero learning rate the adapter stays where the folder put it, but it did train (moved)
        for (String name : List.of("encoder.layer.0.attention.self.query.lora_B.weight",
                "encoder.layer.1.attention.self.value.lora_A.weight")) {
            HostTensor start = first.trainedTensors().get(name);
            HostTensor end = continued.trainedTensors().get(name);
            double diff = start.maxAbsDiff(end);
            assertTrue(diff < 1e-5, name + " moved " + diff + " from the initial adapter");
            assertFalse(start.bitEquals(end), name + " did not train at all");
        }
        AdapterTrainerProvenance tp = (AdapterTrainerProvenance) continued.getProvenance().getTrainerProvenance();
        assertTrue(tp.getInstanceValues().containsKey(AdapterTrainerProvenance.INITIAL_ADAPTER_SHA256));
        org.tribuo.test.Helpers.testProvenanceMarshalling(continued.getProvenance());

        var wrong = new com.oracle.labs.mlrg.olcut.config.ConfigurationManager(new String[] {"-c",
            MethodSwitchingTest.configPath(), "--@trainer.backbone", AdapterModelSerializationTest.TINY,
            "--@trainer.initialAdapter", dir.toString(), "--@trainer.method", "dora"});
        @SuppressWarnings("unchecked")
        AdapterTrainer<Label> mismatched = (AdapterTrainer<Label>) wrong.lookup("trainer");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mismatched.train(TinyDatasets.labels(32, 1)));
        assertTrue(e.getMessage().contains("differ from the method component"), e.getMessage());
        first.close();
        continued.close();
    }

    @Test
    void aFolderWithoutAHeadIsRefusedWithAPointer(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.1, List.of("query"))).train(TinyDatasets.labels(32, 1));
        Path dir = tmp.resolve("nohead");
        var tensors = new java.util.LinkedHashMap<>(model.trainedTensors());
        tensors.keySet().removeIf(k -> k.startsWith("classifier."));
        org.tribuopeft.adapters.peft.PeftAdapterWriter.write(dir, new org.tribuopeft.adapters.peft.PeftAdapter(
                model.method(), tensors, Map.of(), "tiny", Map.of(), PeftKeyStyle.BARE_ENCODER),
                PeftKeyStyle.BARE_ENCODER, Map.of());
        Files.writeString(dir.resolve(AdapterExports.SIDECAR), AdapterExports.sidecar(model, "PEFT"));
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> PeftImport.load(dir, AdapterModelSerializationTest.TINY));
        assertTrue(e.getMessage().contains("no trained head"), e.getMessage());
        model.close();
    }
}
