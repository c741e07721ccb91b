package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.testing.TinyBert;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Python PEFT's side of QLoRA interop ({@code peft-python/qlora/}): a LoRA folder our writer wrote for an adapter
 * trained on all-MiniLM-L6-v2 stored as NF4 + double quantization loaded in PEFT 0.21 unchanged over that base
 * dequantized in numpy from bitsandbytes' rules, and gave our hidden states and logits on real reviews. The committed
 * results say so; the folder's two JSON files are checked here to be what our writer still writes.
 */
class QLoraPythonPeftCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DIR = "peft-python/qlora/";

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = QLoraPythonPeftCheckTest.class.getClassLoader().getResourceAsStream(DIR + name)) {
            assertNotNull(in, DIR + name + " is missing");
            return JSON.readTree(in);
        }
    }

    @Test
    void pythonPeftLoadedOurQloraFolderUnchangedAndComputedOurOutputs() throws IOException {
        JsonNode r = resource("results.json");
        assertEquals("LoraConfig", r.path("peft_config_class").asText());
        assertEquals(0, r.path("adapter_config_keys_not_in_peft").size(), r.toString());
        assertFalse(r.path("adapter_config_mentions_quantization").asBoolean());
        assertEquals(0, r.path("load_warnings").size(), r.path("load_warnings").toString());
        assertEquals(36, r.path("dequantized_linears").asInt());
        // query and value of 6 layers
        assertEquals(12, r.path("adapted_modules_in_peft").asInt());
        assertTrue(r.path("max_hidden_diff").asDouble() < 1e-4, r.toString());
        assertTrue(r.path("max_logit_diff").asDouble() < 1e-4, r.toString());
        assertTrue(r.path("same_predicted_class").asBoolean());
        // the controls are far off: the adapter mattered, and so did reading the nibbles the right way round
        assertTrue(r.path("control_max_hidden_diff_without_adapter").asDouble()
                > 100 * r.path("max_hidden_diff").asDouble(), r.toString());
        assertTrue(r.path("control_max_hidden_diff_swapped_nibbles").asDouble() > 0.1, r.toString());
        assertEquals(resource("tribuo_peft.json").path(AdapterExports.QUANTIZATION), r.path("sidecar_quantization"));
    }

    @Test
    void theCheckedFolderIsWhatOurWriterWritesForAQloraAdapter(@TempDir Path tmp) throws IOException {
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(new LoraConfig(8, 16, 0.1, List.of("query", "value")))
                .backbone(TinyBert.wideFolder(31).toString()).quantization(BaseQuantization.qlora()).maxLength(24)
                .batchSize(8).epochs(1).minSteps(0).seed(7).progressSeconds(0).build();
        AdapterModel<Label> model = trainer.train(TinyDatasets.labels(16, 1));
        Path dir = tmp.resolve("qlora");
        AdapterExports.write(model, dir, PeftKeyStyle.BARE_ENCODER);
        ObjectNode ours = (ObjectNode) JSON.readTree(dir.resolve("adapter_config.json").toFile());
        ObjectNode checked = (ObjectNode) resource("adapter_config.json");
        ours.remove("base_model_name_or_path");
        checked.remove("base_model_name_or_path");
        assertEquals(checked, ours);
        assertEquals(resource("tribuo_peft.json").path(AdapterExports.QUANTIZATION),
                AdapterExports.readSidecar(dir).path(AdapterExports.QUANTIZATION));
        model.close();
    }
}
