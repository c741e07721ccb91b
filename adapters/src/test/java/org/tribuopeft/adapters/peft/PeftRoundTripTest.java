package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.testing.FloatRows;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our PEFT folders read back into identical models, with PEFT's key names, shapes and config. */
class PeftRoundTripTest {
    static final List<LabelledText> TRAIN = SyntheticTexts.twoClass(48, 1);
    static final List<String> TEXTS = SyntheticTexts.twoClass(20, 9).stream().map(LabelledText::text).toList();
    static final ObjectMapper JSON = new ObjectMapper();

    static TextModel trained(AdapterMethod method) throws Exception {
        TextModel m = TextModel.create(TinyBert.backbone(5), method, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(2));
        new FineTuner(new TrainingConfig(2, 8, 5e-3, 0.0, 0.0, 1.0, 0, 32, 3), ProgressListener.NONE)
                .fit(m, TRAIN, List.of());
        return m;
    }

    static float[][] reloaded(Path dir, Backbone base) throws Exception {
        PeftAdapter read = PeftAdapterReader.read(dir, base.config());
        try (TextModel m = TextModel.create(base, read.method(), TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(99))) {
            m.restore(new TextModel.Snapshot(read.tensors(), read.rankMasks()));
            return m.predictLogits(TEXTS, 8);
        }
    }

    static PeftAdapter adapterOf(TextModel m) {
        TextModel.Snapshot s = m.snapshot();
        // PEFT needs AdaLoRA's step count, which the trained schedule knows
        int totalStep = m.adapted().hook() instanceof org.tribuopeft.adapters.adalora.RankAllocator r
                ? r.schedule().totalStep() : 0;
        return new PeftAdapter(m.adapted().method(), s.values(), s.rankMasks(), "tiny-bert", Map.of(),
                PeftKeyStyle.SEQUENCE_CLASSIFICATION, totalStep);
    }

    @Test
    void loraDoraAndAdaLoraRoundTripToIdenticalPredictionsInBothKeyStyles(@TempDir Path tmp) throws Exception {
        List<AdapterMethod> methods = List.of(
                new LoraConfig(4, 8, 0.1, List.of("query", "value")).withBias(BiasMode.LORA_ONLY),
                new DoraConfig(4, 8, 0.0, List.of("query", "value", "dense")),
                new AdaLoraConfig(4, 2, 8, List.of("query", "value")));
        int i = 0;
        for (AdapterMethod method : methods) {
            for (PeftKeyStyle style : PeftKeyStyle.values()) {
                try (TextModel m = trained(method)) {
                    float[][] before = m.predictLogits(TEXTS, 8);
                    Path dir = tmp.resolve("a" + i++);
                    PeftAdapterWriter.write(dir, adapterOf(m), style, Map.of());
                    float[][] after = reloaded(dir, m.backbone());
                    for (int r = 0; r < before.length; r++) {
                        assertArrayEquals(before[r], after[r], 0f, method + " " + style + ": row " + r);
                    }
                }
            }
        }
    }

    @Test
    void fileUsesPeftKeyNamesShapesAndMetadata(@TempDir Path tmp) throws Exception {
        try (TextModel m = trained(new LoraConfig(4, 8, 0.1, List.of("query", "value")))) {
            PeftAdapterWriter.write(tmp.resolve("lora"), adapterOf(m), PeftKeyStyle.SEQUENCE_CLASSIFICATION, Map.of());
        }
        SafetensorsReader.Content c = SafetensorsReader.read(tmp.resolve("lora").resolve("adapter_model.safetensors"));
        assertEquals("pt", c.metadata().get("format"));
        assertArrayEquals(new long[] {4, 16},
                c.entries().get("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight").shape());
        assertArrayEquals(new long[] {16, 4},
                c.entries().get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight").shape());
        assertArrayEquals(new long[] {2, 16}, c.entries().get("base_model.model.classifier.weight").shape());
        assertEquals(2 * 2 * 2 + 2, c.entries().size());
        JsonNode cfg = JSON.readTree(tmp.resolve("lora").resolve("adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals("SEQ_CLS", cfg.get("task_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(8.0, cfg.get("lora_alpha").asDouble());
        assertEquals("classifier", cfg.get("modules_to_save").get(0).asText());
        assertTrue(cfg.get("init_lora_weights").asBoolean());
    }

    @Test
    void adaLoraIsSlicedToTheKeptRankWithItsRankPattern(@TempDir Path tmp) throws Exception {
        Map<String, boolean[]> masks;
        try (TextModel m = trained(new AdaLoraConfig(4, 2, 8, List.of("query", "value")))) {
            masks = m.rankMasks();
            PeftAdapterWriter.write(tmp.resolve("ada"), adapterOf(m), PeftKeyStyle.BARE_ENCODER, Map.of());
        }
        SafetensorsReader.Content c = SafetensorsReader.read(tmp.resolve("ada").resolve("adapter_model.safetensors"));
        JsonNode cfg = JSON.readTree(tmp.resolve("ada").resolve("adapter_config.json").toFile());
        assertEquals("ADALORA", cfg.get("peft_type").asText());
        int total = 0;
        for (Map.Entry<String, boolean[]> e : masks.entrySet()) {
            int kept = 0;
            for (boolean b : e.getValue()) {
                kept += b ? 1 : 0;
            }
            total += kept;
            String prefix = "base_model.model." + e.getKey();
            assertArrayEquals(new long[] {kept, 16}, c.entries().get(prefix + ".lora_A").shape());
            assertArrayEquals(new long[] {kept, 1}, c.entries().get(prefix + ".lora_E").shape());
            assertArrayEquals(new long[] {16, kept}, c.entries().get(prefix + ".lora_B").shape());
            // PEFT keys rank_pattern relative to the wrapped model, without base_model.model.
            assertEquals(4, cfg.get("rank_pattern").get(e.getKey() + ".lora_E").size());
        }
        assertEquals(2 * 4, total);
    }

    @Test
    void pissaIsConvertedToALoraOfTwiceTheRankThatFitsTheOriginalBase(@TempDir Path tmp) throws Exception {
        LoraConfig pissa = new LoraConfig(2, 4, 0.0, List.of("query")).withInit(LoraInit.PISSA);
        Backbone base = TinyBert.backbone(5);
        try (TextModel m = trained(pissa)) {
            float[][] before = m.predictLogits(TEXTS, 8);
            PeftAdapterWriter.write(tmp.resolve("p"), adapterOf(m), PeftKeyStyle.BARE_ENCODER, base.weights().tensors());
            JsonNode cfg = JSON.readTree(tmp.resolve("p").resolve("adapter_config.json").toFile());
            assertEquals(4, cfg.get("r").asInt());
            assertEquals(8.0, cfg.get("lora_alpha").asDouble());
            double max = FloatRows.maxAbsDiff(before, reloaded(tmp.resolve("p"), base));
            System.out.printf("PiSSA exported as LoRA r=4 on the original base: max |logit diff| = %.2e%n", max);
            assertTrue(max < 1e-5, "PiSSA conversion changed logits by " + max);
        }
    }

    @Test
    void unknownConfigKeysAreKeptAndReported(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("lora");
        try (TextModel m = trained(new LoraConfig(4, 8, 0.1, List.of("query", "value")))) {
            PeftAdapterWriter.write(dir, adapterOf(m), PeftKeyStyle.SEQUENCE_CLASSIFICATION, Map.of());
        }
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        cfg.put("future_option", "x").putObject("new_block").put("k", 1);
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        PeftAdapter read = PeftAdapterReader.read(dir, TinyBert.config());
        assertEquals(List.of("future_option", "new_block"), read.unknownKeys());
        PeftAdapterWriter.write(tmp.resolve("again"), read, read.keyStyle(), Map.of());
        JsonNode again = JSON.readTree(tmp.resolve("again").resolve("adapter_config.json").toFile());
        assertEquals("x", again.get("future_option").asText());
        assertEquals(1, again.get("new_block").get("k").asInt());
    }

    @Test
    void missingKeysAndMisShapedTensorsAreNamed(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("lora");
        try (TextModel m = trained(new LoraConfig(4, 8, 0.1, List.of("query", "value")))) {
            PeftAdapterWriter.write(dir, adapterOf(m), PeftKeyStyle.SEQUENCE_CLASSIFICATION, Map.of());
        }
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        cfg.remove("target_modules");
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        ModelFileException e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(dir, TinyBert.config()));
        assertTrue(e.getMessage().contains("'target_modules'"), e.getMessage());

        cfg.putArray("target_modules").add("query").add("value");
        cfg.put("r", 3);
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(dir, TinyBert.config()));
        assertTrue(e.getMessage().contains("lora_A.weight") && e.getMessage().contains("[4, 16]")
                && e.getMessage().contains("[3, 16]"), e.getMessage());

        // an adapter for a wider base does not fit this one
        cfg.put("r", 4);
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        var wide = new org.tribuopeft.adapters.backbone.BertConfig(64, 32, 2, 4, 32, 40, 2, 1e-12,
                org.tribuopeft.adapters.backbone.HiddenActivation.GELU, 0.1, 0.1);
        e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(dir, wide));
        assertTrue(e.getMessage().contains("[4, 32]"), e.getMessage());
    }

    @Test
    void fullFineTuningIsRefusedWithAPointer() {
        PeftAdapter full = new PeftAdapter(new org.tribuopeft.adapters.full.FullFineTuning(), Map.of(), Map.of(), "x",
                Map.of(), PeftKeyStyle.BARE_ENCODER);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PeftAdapterWriter.write(Path.of("unused"), full, PeftKeyStyle.BARE_ENCODER, Map.of()));
        assertTrue(e.getMessage().contains("Hugging Face model folder"));
    }

}
