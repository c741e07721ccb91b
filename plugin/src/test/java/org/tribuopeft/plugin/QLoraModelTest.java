package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model trained on a quantized base (QLoRA) keeps that storage through model.tribuo, the PEFT folder's
 * tribuo_peft.json and replay, and predicts exactly as trained after reloading; the trainer refuses combinations
 * that cannot run, by the field at fault.
 */
class QLoraModelTest {
    private static final String WIDE = TinyBert.wideFolder(31).toString();
    private static final List<Example<Label>> TEST = TinyDatasets.examples(16, 2, TinyDatasets::label);

    private static AdapterTrainer<Label> trainer(BaseQuantization q) {
        return AdapterTrainer.builder(new LoraConfig(4, 8, 0.0, List.of("query", "value"))).backbone(WIDE)
                .quantization(q).maxLength(24).batchSize(8).epochs(2).learningRate(5e-3).seed(7).progressSeconds(0)
                .build();
    }

    private static List<String> texts() {
        return TEST.stream().map(e -> TextExamples.text(e, "text", 0)).toList();
    }

    @Test
    void modelTrainedOnAQuantizedBaseReloadsAndPredictsIdentically() {
        AdapterModel<Label> model = trainer(BaseQuantization.qlora()).train(TinyDatasets.labels(32, 1));
        assertEquals(BaseQuantization.qlora(), model.quantization());
        assertTrue(model.textModel().adapted().encoder().isQuantized());
        java.util.Map<String, String> flat = new java.util.TreeMap<>();
        org.tribuopeft.provenance.replay.ProvenanceFlattener.flatten(model.getProvenance()).forEach((k, v) -> {
            if (k.contains("quantization")) {
                flat.put(k, String.valueOf(v));
            }
        });
        assertEquals(java.util.Map.of("trainer.quantization.blockSize", "64",
                "trainer.quantization.class-name", BaseQuantization.class.getName(),
                "trainer.quantization.computeType", "float32", "trainer.quantization.doubleQuant", "true",
                "trainer.quantization.host-short-name", "quantization",
                "trainer.quantization.type", "nf4"), flat);
        AdapterModel<Label> copy = (AdapterModel<Label>) Helpers.testModelProtoSerialization(model, Label.class, TEST);
        assertEquals(BaseQuantization.qlora(), copy.quantization());
        assertEquals(0.0, FloatRows.maxAbsDiff(model.textModel().predictLogits(texts(), 8),
                copy.textModel().predictLogits(texts(), 8)));
        // the same adapter on a float32 base predicts differently: the stored base matters
        AdapterModel<Label> floatBase = trainer(null).train(TinyDatasets.labels(32, 1));
        assertNull(floatBase.quantization());
        assertTrue(FloatRows.maxAbsDiff(model.textModel().predictLogits(texts(), 8),
                floatBase.textModel().predictLogits(texts(), 8)) > 1e-4);
        String why = model.mismatchWith(floatBase);
        assertTrue(why != null && why.contains("quantization"), String.valueOf(why));
        model.close();
        copy.close();
        floatBase.close();
    }

    @Test
    void peftFolderIsAnOrdinaryLoraFolderThatRecordsTheQuantizedBase(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = trainer(new BaseQuantization("fp4", 32, true)).train(TinyDatasets.labels(32, 1));
        Path dir = tmp.resolve("qlora");
        AdapterExports.write(model, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);
        String config = Files.readString(dir.resolve("adapter_config.json"));
        assertTrue(config.contains("\"peft_type\" : \"LORA\"") || config.contains("\"peft_type\":\"LORA\""), config);
        JsonNode q = AdapterExports.readSidecar(dir).path(AdapterExports.QUANTIZATION);
        assertEquals("fp4", q.path("type").asText());
        assertEquals(32, q.path("block_size").asInt());
        assertTrue(q.path("double_quant").asBoolean());
        assertEquals("float32", q.path("compute_dtype").asText());
        assertEquals("fp4", q.path("transformers_bitsandbytes_config").path("bnb_4bit_quant_type").asText());
        AdapterModel<Label> imported = PeftImport.load(dir, WIDE);
        assertEquals(model.quantization(), imported.quantization());
        assertTrue(FloatRows.maxAbsDiff(model.textModel().predictLogits(texts(), 8),
                imported.textModel().predictLogits(texts(), 8)) <= 1e-6);
        model.close();
        imported.close();
    }

    @Test
    void aQuantizedRunResumesFromItsCheckpointsAndRefusesAFloat32Runs(@TempDir Path tmp) throws Exception {
        Path q = tmp.resolve("q");
        AdapterModel<Label> full = trainer(BaseQuantization.qlora()).withCheckpoints(q.toString(), 2, 100)
                .train(TinyDatasets.labels(32, 1));
        for (var e : org.tribuopeft.adapters.checkpoint.CheckpointFolder.list(q)) {
            if (e.step() > 4) {
                org.tribuopeft.adapters.io.AtomicFiles.deleteRecursively(e.path());
            }
        }
        AdapterModel<Label> resumed = trainer(BaseQuantization.qlora()).withCheckpoints(q.toString(), 2, 100)
                .withResumeFrom(q.toString()).train(TinyDatasets.labels(32, 1));
        full.trainedTensors().forEach((k, v) -> assertTrue(v.bitEquals(resumed.trainedTensors().get(k)), k));
        Path f = tmp.resolve("f");
        trainer(null).withCheckpoints(f.toString(), 2, 100).train(TinyDatasets.labels(32, 1)).close();
        Exception e = assertThrows(Exception.class, () -> trainer(BaseQuantization.qlora())
                .withResumeFrom(f.toString()).train(TinyDatasets.labels(32, 1)));
        assertTrue(e.getMessage().contains("baseStorage is nf4(blockSize=64, doubleQuant=true, computeType=float32) "
                + "in this run but float32 in the checkpoint"), e.getMessage());
        full.close();
        resumed.close();
    }

    @Test
    void theTrainerRefusesFullFineTuningOfAQuantizedBaseByField() {
        PropertyException e = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(new FullFineTuning())
                .backbone(WIDE).quantization(BaseQuantization.qlora()).build());
        assertEquals("quantization", e.getProperty());
        assertTrue(e.getMessage().contains("full fine-tuning trains every Linear weight"), e.getMessage());
    }

    @Test
    void theTrainerRefusesABlockSizeThatDoesNotDivideTheBackbonesWidths() {
        PropertyException e = assertThrows(PropertyException.class,
                () -> trainer(new BaseQuantization("nf4", 128, true)));
        assertEquals("quantization", e.getProperty());
        assertTrue(e.getMessage().contains("blockSize 128 does not divide the input width 64"), e.getMessage());
        // the bundled MiniLM (hidden 384) refuses 256 and names the sizes that fit
        PropertyException mini = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(
                new LoraConfig()).quantization(new BaseQuantization("nf4", 256, true)).build());
        assertTrue(mini.getMessage().contains("'all-minilm-l6-v2'; use one of [32, 64, 128]"), mini.getMessage());
    }

    @Test
    void theQloraExampleConfigTrainsAQuantizedModelThatReplaysBitIdentically() throws Exception {
        TextPipeline.Result<?> r = ExampleConfigsTest.run(ExampleConfigsTest.EXAMPLES.resolve("qlora-imdb.xml"),
                "--@trainer.backbone", WIDE, "--@imdb-train.count", "32", "--@imdb-test.count", "16");
        AdapterModel<Label> model = ExampleConfigsTest.cast(r);
        assertEquals(BaseQuantization.qlora(), model.quantization());
        assertEquals(16, r.evaluation().getPredictions().size());
        var replay = Replays.replay(model);
        assertTrue(replay.report().bitIdentical(), replay.report().render());
        assertEquals(BaseQuantization.qlora(), ((AdapterModel<Label>) replay.replayed()).quantization());
        assertFalse(model.trainedTensors().keySet().stream().anyMatch(k -> k.endsWith("query.weight")),
                "no base weight is trained or saved");
        model.close();
        ((AdapterModel<Label>) replay.replayed()).close();
    }
}
