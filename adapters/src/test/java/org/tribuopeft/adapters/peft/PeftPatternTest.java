package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TextModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.adapters.peft.PeftRoundTripTest.JSON;
import static org.tribuopeft.adapters.peft.PeftRoundTripTest.TEXTS;
import static org.tribuopeft.adapters.peft.PeftRoundTripTest.adapterOf;
import static org.tribuopeft.adapters.peft.PeftRoundTripTest.reloaded;
import static org.tribuopeft.adapters.peft.PeftRoundTripTest.trained;

/** LoRA's rank_pattern and alpha_pattern in PEFT folders: written with PEFT's keys, read back to the same model. */
class PeftPatternTest {
    static final Map<String, Integer> RANKS = Map.of("layer.0.attention.self.query", 2, "intermediate.dense", 6);
    static final Map<String, Double> ALPHAS = Map.of("value", 3.0);

    static LoraConfig patterned() {
        return new LoraConfig(4, 8, 0.0, List.of("query", "value", "intermediate.dense")).withPatterns(RANKS, ALPHAS);
    }

    @Test
    void patternsAreWrittenAsPeftWritesThemAndReadBackToIdenticalPredictions(@TempDir Path tmp) throws Exception {
        for (PeftKeyStyle style : PeftKeyStyle.values()) {
            Path dir = tmp.resolve(style.name());
            try (TextModel m = trained(patterned())) {
                float[][] before = m.predictLogits(TEXTS, 8);
                PeftAdapterWriter.write(dir, adapterOf(m), style, Map.of());
                assertEquals(0.0, FloatRows.maxAbsDiff(before, reloaded(dir, m.backbone())), style.name());
            }
            JsonNode cfg = JSON.readTree(dir.resolve("adapter_config.json").toFile());
            assertEquals(4, cfg.get("r").asInt());
            assertEquals(2, cfg.get("rank_pattern").get("layer.0.attention.self.query").asInt());
            assertEquals(6, cfg.get("rank_pattern").get("intermediate.dense").asInt());
            assertEquals(3.0, cfg.get("alpha_pattern").get("value").asDouble());
            SafetensorsReader.Content c = SafetensorsReader.read(dir.resolve("adapter_model.safetensors"));
            String prefix = style.encoderPrefix() + "encoder.layer.";
            assertArrayEquals(new long[] {2, 16}, c.entries().get(prefix + "0.attention.self.query.lora_A.weight").shape());
            assertArrayEquals(new long[] {4, 16}, c.entries().get(prefix + "1.attention.self.query.lora_A.weight").shape());
            assertArrayEquals(new long[] {32, 6}, c.entries().get(prefix + "1.intermediate.dense.lora_B.weight").shape());
        }
    }

    @Test
    void pissaWithPatternsDoublesEveryRankAndKeepsEachModulesScaling(@TempDir Path tmp) throws Exception {
        LoraConfig pissa = new LoraConfig(2, 4, 0.0, List.of("query", "value"))
                .withPatterns(Map.of("layer.1.attention.self.query", 3), Map.of("value", 6.0)).withInit(LoraInit.PISSA);
        Backbone base = TinyBert.backbone(5);
        try (TextModel m = trained(pissa)) {
            float[][] before = m.predictLogits(TEXTS, 8);
            PeftAdapterWriter.write(tmp.resolve("p"), adapterOf(m), PeftKeyStyle.BARE_ENCODER, base.weights().tensors());
            JsonNode cfg = JSON.readTree(tmp.resolve("p").resolve("adapter_config.json").toFile());
            assertEquals(6, cfg.get("rank_pattern").get("layer.1.attention.self.query").asInt());
            assertEquals(12.0, cfg.get("alpha_pattern").get("value").asDouble());
            double max = FloatRows.maxAbsDiff(before, reloaded(tmp.resolve("p"), base));
            System.out.printf("PiSSA with rank/alpha patterns exported on the original base: max |logit diff| = %.2e%n",
                    max);
            assertTrue(max < 1e-5, "PiSSA conversion with patterns changed logits by " + max);
        }
    }

    @Test
    void readerDropsKeysThatSelectNothingAndStripsTheSequenceClassificationPrefix(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("lora");
        float[][] before;
        try (TextModel m = trained(patterned())) {
            before = m.predictLogits(TEXTS, 8);
            PeftAdapterWriter.write(dir, adapterOf(m), PeftKeyStyle.SEQUENCE_CLASSIFICATION, Map.of());
        }
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        ObjectNode ranks = cfg.putObject("rank_pattern");
        // as a Python user may key a BertForSequenceClassification module, plus a key PEFT would ignore
        ranks.put("bert.encoder.layer.0.attention.self.query", 2).put("intermediate.dense", 6).put("key", 16);
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        PeftAdapter read = PeftAdapterReader.read(dir, TinyBert.config());
        LoraConfig l = (LoraConfig) read.method();
        assertEquals(Map.of("encoder.layer.0.attention.self.query", 2, "intermediate.dense", 6), l.rankPattern().entries());
        assertEquals(0.0, FloatRows.maxAbsDiff(before, reloaded(dir, TinyBert.backbone(5))));

        ranks.put("query", 3);
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        ModelFileException e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(dir, TinyBert.config()));
        assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("'query'"), e.getMessage());

        ranks.remove("query");
        ranks.put("value", "four");
        Files.writeString(dir.resolve("adapter_config.json"), cfg.toString());
        e = assertThrows(ModelFileException.class, () -> PeftAdapterReader.read(dir, TinyBert.config()));
        assertTrue(e.getMessage().contains("rank_pattern entry 'value'"), e.getMessage());
    }
}
