package org.tribuopeft.adapters.peft;

import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.BiasMode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every way of choosing target modules and every adapter setting that reaches {@code adapter_config.json},
 * one small adapter each: the catalogue {@link InteropBundle} writes for Python PEFT to load, and that
 * {@link PeftConfigTypesTest} checks against PEFT's field types.
 */
final class PeftTargetForms {
    /**
     * One form.
     *
     * @param method the adapter settings
     * @param style the key style (and so PEFT task type) the folder is written in
     */
    record Form(AdapterMethod method, PeftKeyStyle style) {}

    private PeftTargetForms() {}

    /** Name → form, in a fixed order; the names are the folder names of the interop bundle. */
    static Map<String, Form> all() {
        Map<String, Form> forms = new LinkedHashMap<>();
        PeftKeyStyle bare = PeftKeyStyle.BARE_ENCODER;
        forms.put("lora", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value")), bare));
        forms.put("dora", new Form(new DoraConfig(4, 8, 0.0, List.of("query", "value", "dense")), bare));
        forms.put("adalora", new Form(new AdaLoraConfig(4, 2, 8, List.of("query", "value")), bare));
        forms.put("lora_pattern", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value", "intermediate.dense"))
                .withPatterns(Map.of("layer.0.attention.self.query", 2, "^encoder\\.layer\\.1\\.intermediate\\.dense", 6),
                        Map.of("value", 3.0)), bare));
        forms.put("lora_pattern_seq_cls", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value",
                "intermediate.dense")).withPatterns(Map.of("layer.0.attention.self.query", 2,
                "^encoder\\.layer\\.1\\.intermediate\\.dense", 6), Map.of("value", 3.0)),
                PeftKeyStyle.SEQUENCE_CLASSIFICATION));
        forms.put("lora_regex", new Form(regex(), bare));
        forms.put("lora_regex_seq_cls", new Form(regex(), PeftKeyStyle.SEQUENCE_CLASSIFICATION));
        forms.put("lora_all_linear", new Form(new LoraConfig(4, 8, 0.0, List.of("all-linear")), bare));
        forms.put("lora_all_linear_seq_cls", new Form(new LoraConfig(4, 8, 0.0, List.of("all-linear")),
                PeftKeyStyle.SEQUENCE_CLASSIFICATION));
        forms.put("lora_all_linear_layer_1", new Form(new LoraConfig(4, 8, 0.0, List.of("all-linear"))
                .withLayers(List.of(1)), bare));
        forms.put("lora_layers", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value")).withLayers(List.of(1)),
                bare));
        forms.put("lora_rslora", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value")).withRslora(true), bare));
        forms.put("lora_bias_all", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value"))
                .withBias(BiasMode.ALL), bare));
        forms.put("lora_bias_lora_only", new Form(new LoraConfig(4, 8, 0.0, List.of("query", "value"))
                .withBias(BiasMode.LORA_ONLY), bare));
        forms.put("lora_alpha_fraction", new Form(new LoraConfig(4, 6.5, 0.0, List.of("key")), bare));
        return forms;
    }

    private static LoraConfig regex() {
        return new LoraConfig(4, 8, 0.0, List.of("query"))
                .withTargetRegex("encoder\\.layer\\.\\d+\\.(attention\\.self\\.key|intermediate\\.dense)");
    }
}
