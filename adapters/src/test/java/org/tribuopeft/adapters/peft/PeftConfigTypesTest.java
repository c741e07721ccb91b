package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every adapter_config.json we write has the field types of PEFT 0.21's config dataclasses, for every way of
 * choosing target modules; the folders Python PEFT loaded (committed under {@code peft-python/ours}) and the
 * folders PEFT wrote ({@code peft-python/py_*}) pass the same check; and the reader takes both forms PEFT takes.
 */
class PeftConfigTypesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = PythonPeftFoldersTest.ROOT;

    private static JsonNode written(Path dir, String name, PeftTargetForms.Form form, Backbone base) throws Exception {
        try (TextModel m = TextModel.create(base, form.method(), TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3))) {
            TextModel.Snapshot s = m.snapshot();
            PeftAdapterWriter.write(dir.resolve(name), new PeftAdapter(form.method(), s.values(), s.rankMasks(), "tiny",
                    Map.of(), form.style(), 10), form.style(), Map.of());
        }
        return JSON.readTree(dir.resolve(name).resolve(PeftAdapterWriter.CONFIG).toFile());
    }

    @Test
    void everyTargetFormIsWrittenWithPeftsFieldTypesAndReadsBackToTheSameModules(@TempDir Path tmp) throws Exception {
        Backbone base = TinyBert.backbone(5);
        for (Map.Entry<String, PeftTargetForms.Form> e : PeftTargetForms.all().entrySet()) {
            JsonNode c = written(tmp, e.getKey(), e.getValue(), base);
            assertEquals(List.of(), PeftConfigTypes.violations(c), e.getKey());
            LowRankConfig ours = (LowRankConfig) e.getValue().method();
            PeftAdapter back = PeftAdapterReader.read(tmp.resolve(e.getKey()), base.config());
            assertEquals(ours.targets().select(base.config()),
                    ((LowRankConfig) back.method()).targets().select(base.config()), e.getKey());
        }
    }

    @Test
    void targetModulesTakePeftsListOrStringForm(@TempDir Path tmp) throws Exception {
        Backbone base = TinyBert.backbone(5);
        Map<String, PeftTargetForms.Form> forms = PeftTargetForms.all();
        JsonNode allLinear = written(tmp, "a", forms.get("lora_all_linear"), base);
        assertEquals("\"all-linear\"", allLinear.get("target_modules").toString());
        assertEquals(8, allLinear.get("lora_alpha").intValue());
        assertTrue(allLinear.get("lora_alpha").isInt());
        JsonNode seqCls = written(tmp, "b", forms.get("lora_all_linear_seq_cls"), base);
        assertEquals("\"all-linear\"", seqCls.get("target_modules").toString());
        JsonNode regex = written(tmp, "c", forms.get("lora_regex"), base);
        assertEquals("encoder\\.layer\\.\\d+\\.(attention\\.self\\.key|intermediate\\.dense)",
                regex.get("target_modules").asText());
        JsonNode regexSeqCls = written(tmp, "d", forms.get("lora_regex_seq_cls"), base);
        assertEquals("(?:bert\\.)?(?:encoder\\.layer\\.\\d+\\.(attention\\.self\\.key|intermediate\\.dense))",
                regexSeqCls.get("target_modules").asText());
        JsonNode allLinearLayer1 = written(tmp, "e", forms.get("lora_all_linear_layer_1"), base);
        assertEquals("[\"encoder.layer.1.attention.output.dense\",\"encoder.layer.1.attention.self.key\","
                + "\"encoder.layer.1.attention.self.query\",\"encoder.layer.1.attention.self.value\","
                + "\"encoder.layer.1.intermediate.dense\",\"encoder.layer.1.output.dense\"]",
                allLinearLayer1.get("target_modules").toString());
        assertTrue(allLinearLayer1.get("layers_to_transform").isNull());
        JsonNode layers = written(tmp, "f", forms.get("lora_layers"), base);
        assertEquals("[\"query\",\"value\"]", layers.get("target_modules").toString());
        assertEquals("[1]", layers.get("layers_to_transform").toString());
        assertEquals("layer", layers.get("layers_pattern").asText());
        JsonNode pattern = written(tmp, "h", forms.get("lora_pattern_seq_cls"), base);
        assertEquals("{\"^(?:bert\\\\.)?encoder\\\\.layer\\\\.1\\\\.intermediate\\\\.dense\":6,"
                + "\"layer.0.attention.self.query\":2}", pattern.get("rank_pattern").toString());
        JsonNode fraction = written(tmp, "g", forms.get("lora_alpha_fraction"), base);
        assertEquals(6.5, fraction.get("lora_alpha").doubleValue());
    }

    @Test
    void readerTakesAllLinearAndLayersInEveryFormPeftTakes(@TempDir Path tmp) throws Exception {
        Backbone base = TinyBert.backbone(5);
        written(tmp, "a", PeftTargetForms.all().get("lora_layers"), base);
        Path config = tmp.resolve("a").resolve(PeftAdapterWriter.CONFIG);
        ObjectNode c = (ObjectNode) JSON.readTree(config.toFile());
        List<String> layer1 = List.of("encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value");
        c.put("layers_to_transform", 1);
        Files.writeString(config, c.toString());
        assertEquals(layer1, selected(tmp.resolve("a"), base));
        // our writer's old list form of all-linear, which PEFT refuses, still reads as all-linear
        ObjectNode all = (ObjectNode) JSON.readTree(written(tmp, "b", PeftTargetForms.all().get("lora_all_linear"), base)
                .toString());
        Path allConfig = tmp.resolve("b").resolve(PeftAdapterWriter.CONFIG);
        all.putArray("target_modules").add("all-linear");
        Files.writeString(allConfig, all.toString());
        assertEquals(12, selected(tmp.resolve("b"), base).size());
        all.put("target_modules", "ALL-LINEAR");
        Files.writeString(allConfig, all.toString());
        assertEquals(12, selected(tmp.resolve("b"), base).size());
        // PEFT saves all-linear on a sequence classifier as full names with bert., the pooler's included
        var names = all.putArray("target_modules");
        ((LowRankConfig) PeftTargetForms.all().get("lora_all_linear").method()).targets().select(base.config())
                .forEach(m -> names.add("bert." + m));
        names.add("bert.pooler.dense");
        Files.writeString(allConfig, all.toString());
        assertEquals(((LowRankConfig) PeftTargetForms.all().get("lora_all_linear").method()).targets()
                .select(base.config()), selected(tmp.resolve("b"), base));
    }

    private static List<String> selected(Path dir, Backbone base) throws Exception {
        return ((LowRankConfig) PeftAdapterReader.read(dir, base.config()).method()).targets().select(base.config());
    }

    @Test
    void committedFoldersOfBothSidesHavePeftsFieldTypes() throws Exception {
        List<Path> configs = new ArrayList<>();
        try (Stream<Path> files = Files.walk(FIXTURES)) {
            files.filter(p -> p.getFileName().toString().equals(PeftAdapterWriter.CONFIG)).sorted().forEach(configs::add);
        }
        assertTrue(configs.size() >= PeftTargetForms.all().size() + 4, "found only " + configs);
        for (Path p : configs) {
            assertEquals(List.of(), PeftConfigTypes.violations(JSON.readTree(p.toFile())), p.toString());
        }
    }

    @Test
    void typeCheckNamesTheListFormOfAllLinearAndAFloatAlpha() throws Exception {
        JsonNode c = JSON.readTree("{\"peft_type\":\"LORA\",\"r\":8,\"lora_alpha\":16.0,\"lora_dropout\":0.1,"
                + "\"target_modules\":[\"all-linear\"],\"bias\":\"none\",\"init_lora_weights\":true}");
        assertEquals(List.of("lora_alpha must be an int, found 16.0",
                "target_modules list entry \"all-linear\" is not a module name (all-linear must be the string "
                        + "\"all-linear\", not a list)"), PeftConfigTypes.violations(c));
    }

    @Test
    void anAdaLoraAdapterWithoutAStepCountIsRefusedBeforeAnythingIsWritten(@TempDir Path tmp) throws Exception {
        PeftTargetForms.Form form = PeftTargetForms.all().get("adalora");
        try (TextModel m = TextModel.create(TinyBert.backbone(5), form.method(), TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(3))) {
            TextModel.Snapshot s = m.snapshot();
            PeftAdapter unknownSteps = new PeftAdapter(form.method(), s.values(), s.rankMasks(), "tiny", Map.of(),
                    form.style(), 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PeftAdapterWriter.write(tmp.resolve("a"), unknownSteps, form.style(), Map.of()));
            assertEquals("AdaLoRA's total_step is unknown (AdaLoraConfig.totalStep is 0 and no trained step count was "
                    + "given); PEFT refuses an ADALORA adapter_config.json without a positive total_step, so set "
                    + "totalStep or pass the run's step count in PeftAdapter", e.getMessage());
            assertFalse(Files.exists(tmp.resolve("a")));
        }
    }

    @Test
    void aBadBiasOrAnExcludeListIsRefusedNamingTheFileAndTheField(@TempDir Path tmp) throws Exception {
        Backbone base = TinyBert.backbone(5);
        ObjectNode c = (ObjectNode) written(tmp, "a", PeftTargetForms.all().get("lora"), base);
        Path config = tmp.resolve("a").resolve(PeftAdapterWriter.CONFIG);
        c.put("bias", "some");
        Files.writeString(config, c.toString());
        org.tribuopeft.adapters.io.ModelFileException bias = assertThrows(
                org.tribuopeft.adapters.io.ModelFileException.class, () -> PeftAdapterReader.read(tmp.resolve("a"),
                        base.config()));
        assertEquals(config + ": bias: unknown bias mode 'some'; use none, all or lora_only", bias.getMessage());
        c.put("bias", "none");
        c.putArray("exclude_modules").add("value");
        Files.writeString(config, c.toString());
        org.tribuopeft.adapters.io.ModelFileException exclude = assertThrows(
                org.tribuopeft.adapters.io.ModelFileException.class, () -> PeftAdapterReader.read(tmp.resolve("a"),
                        base.config()));
        assertEquals(config + ": exclude_modules=[\"value\"] is not supported; list the adapted modules in "
                + "target_modules instead", exclude.getMessage());
    }
}
