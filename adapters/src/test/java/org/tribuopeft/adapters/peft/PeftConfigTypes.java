package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON types PEFT 0.21's config dataclasses ({@code peft/config.py}, {@code tuners/lora/config.py},
 * {@code tuners/adalora/config.py}) give the fields we write, with the rules of their {@code __post_init__}
 * that concern types: a string {@code target_modules} (a regex, or {@code all-linear}) forbids
 * {@code layers_to_transform} and {@code layers_pattern}, and a list holds module names only. Python does not
 * check these types when it loads a config; a wrong one shows up later as a wrong or failed match, which is
 * why they are checked here.
 */
final class PeftConfigTypes {
    private static final Set<String> INIT_NAMES = Set.of("gaussian", "eva", "olora", "pissa", "corda", "loftq",
            "orthogonal", "lora_ga");

    private PeftConfigTypes() {}

    /** PEFT 0.21's PromptLearningConfig with PromptTuningConfig's or PrefixTuningConfig's own fields. */
    private static List<String> promptLearning(JsonNode c, String type) {
        List<String> out = new ArrayList<>();
        optionalText(c, "task_type", out);
        optionalText(c, "base_model_name_or_path", out);
        bool(c, "inference_mode", out);
        integer(c, "num_virtual_tokens", out);
        integer(c, "token_dim", out);
        integer(c, "num_transformer_submodules", out);
        for (String k : new String[] {"num_layers", "num_attention_heads"}) {
            if (c.hasNonNull(k) || type.equals("PREFIX_TUNING")) {
                // prefix tuning views its table with both; prompt tuning does not use them
                integer(c, k, out);
            }
        }
        JsonNode save = c.get("modules_to_save");
        if (save != null && !save.isNull() && !(save.isArray() && allMatch(save, JsonNode::isTextual))) {
            out.add("modules_to_save must be a list of strings or null, found " + save);
        }
        if (type.equals("PROMPT_TUNING")) {
            if (!Set.of("RANDOM", "TEXT", "SAMPLE_VOCAB").contains(c.path("prompt_tuning_init").asText(""))) {
                out.add("prompt_tuning_init must be RANDOM, TEXT or SAMPLE_VOCAB, found " + c.get("prompt_tuning_init"));
            }
            if (c.path("prompt_tuning_init").asText("").equals("TEXT")) {
                optionalText(c, "prompt_tuning_init_text", out);
                optionalText(c, "tokenizer_name_or_path", out);
            }
        } else {
            bool(c, "prefix_projection", out);
            integer(c, "encoder_hidden_size", out);
        }
        return out;
    }

    /** What in one {@code adapter_config.json} differs from PEFT's types, one message per field; empty if nothing. */
    static List<String> violations(JsonNode c) {
        List<String> out = new ArrayList<>();
        String type = c.path("peft_type").asText("");
        if (type.equals("PROMPT_TUNING") || type.equals("PREFIX_TUNING")) {
            return promptLearning(c, type);
        }
        if (!type.equals("LORA") && !type.equals("ADALORA") && !type.equals("VERA")) {
            out.add("peft_type must be LORA, ADALORA or VERA, found " + c.get("peft_type"));
        }
        boolean vera = type.equals("VERA");
        optionalText(c, "task_type", out);
        optionalText(c, "base_model_name_or_path", out);
        bool(c, "inference_mode", out);
        integer(c, "r", out);
        if (!vera) {
            alpha(c, "lora_alpha", out);
        }
        number(c, vera ? "vera_dropout" : "lora_dropout", out);
        JsonNode targets = c.get("target_modules");
        if (targets == null || !(targets.isTextual() || targets.isArray())) {
            out.add("target_modules must be a list of names or a string, found " + targets);
        } else if (targets.isArray()) {
            for (JsonNode t : targets) {
                if (!t.isTextual() || t.asText().equalsIgnoreCase("all-linear")) {
                    out.add("target_modules list entry " + t + " is not a module name (all-linear must be the string "
                            + "\"all-linear\", not a list)");
                }
            }
        } else {
            for (String k : new String[] {"layers_to_transform", "layers_pattern"}) {
                if (c.hasNonNull(k)) {
                    out.add(k + " must be null when target_modules is a string (PEFT refuses both), found " + c.get(k));
                }
            }
        }
        JsonNode layers = c.get("layers_to_transform");
        if (layers != null && !layers.isNull() && !layers.isIntegralNumber()
                && !(layers.isArray() && allMatch(layers, JsonNode::isIntegralNumber))) {
            out.add("layers_to_transform must be an int or a list of ints, found " + layers);
        }
        JsonNode pattern = c.get("layers_pattern");
        if (pattern != null && !pattern.isNull() && !pattern.isTextual()
                && !(pattern.isArray() && allMatch(pattern, JsonNode::isTextual))) {
            out.add("layers_pattern must be a string or a list of strings, found " + pattern);
        }
        String biasOnly = vera ? "vera_only" : "lora_only";
        if (!Set.of("none", "all", biasOnly).contains(c.path("bias").asText(""))) {
            out.add("bias must be none, all or " + biasOnly + ", found " + c.get("bias"));
        }
        bool(c, "fan_in_fan_out", out);
        JsonNode save = c.get("modules_to_save");
        if (save != null && !save.isNull() && !(save.isArray() && allMatch(save, JsonNode::isTextual))) {
            out.add("modules_to_save must be a list of strings or null, found " + save);
        }
        if (vera) {
            // PEFT 0.21's VeraConfig; save_projection must be true for the folder to load anywhere else
            number(c, "d_initial", out);
            integer(c, "projection_prng_key", out);
            bool(c, "init_weights", out);
            if (!c.path("save_projection").asBoolean(false)) {
                out.add("save_projection must be true, found " + c.get("save_projection"));
            }
            return out;
        }
        bool(c, "use_rslora", out);
        bool(c, "use_dora", out);
        JsonNode init = c.get("init_lora_weights");
        if (init == null || !(init.isBoolean() || init.isTextual() && INIT_NAMES.contains(init.asText()))) {
            out.add("init_lora_weights must be a boolean or one of " + INIT_NAMES + ", found " + init);
        }
        boolean ada = type.equals("ADALORA");
        dict(c, "rank_pattern", out, ada ? v -> v.isArray() && allMatch(v, JsonNode::isBoolean) : JsonNode::isIntegralNumber,
                ada ? "a list of booleans" : "an int");
        dict(c, "alpha_pattern", out, JsonNode::isNumber, "a number");
        if (ada) {
            for (String k : new String[] {"init_r", "target_r", "tinit", "tfinal", "deltaT"}) {
                integer(c, k, out);
            }
            for (String k : new String[] {"beta1", "beta2", "orth_reg_weight"}) {
                number(c, k, out);
            }
            if (!c.path("total_step").isIntegralNumber() || c.get("total_step").asInt() <= 0) {
                out.add("total_step must be a positive int (PEFT's AdaLoraConfig refuses anything else), found "
                        + c.get("total_step"));
            }
        }
        return out;
    }

    private static boolean allMatch(JsonNode array, java.util.function.Predicate<JsonNode> test) {
        for (JsonNode n : array) {
            if (!test.test(n)) {
                return false;
            }
        }
        return true;
    }

    private static void optionalText(JsonNode c, String k, List<String> out) {
        if (c.has(k) && !c.get(k).isNull() && !c.get(k).isTextual()) {
            out.add(k + " must be a string or null, found " + c.get(k));
        }
    }

    private static void bool(JsonNode c, String k, List<String> out) {
        if (c.has(k) && !c.get(k).isBoolean()) {
            out.add(k + " must be a boolean, found " + c.get(k));
        }
    }

    private static void integer(JsonNode c, String k, List<String> out) {
        if (!c.path(k).isIntegralNumber()) {
            out.add(k + " must be an int, found " + c.get(k));
        }
    }

    /** PEFT types lora_alpha as int; a fractional alpha has no int form, so a float is right only then. */
    private static void alpha(JsonNode c, String k, List<String> out) {
        JsonNode v = c.get(k);
        boolean fractional = v != null && v.isFloatingPointNumber() && v.asDouble() != Math.rint(v.asDouble());
        if (!fractional) {
            integer(c, k, out);
        }
    }

    private static void number(JsonNode c, String k, List<String> out) {
        if (!c.path(k).isNumber()) {
            out.add(k + " must be a number, found " + c.get(k));
        }
    }

    private static void dict(JsonNode c, String k, List<String> out, java.util.function.Predicate<JsonNode> value,
                             String what) {
        JsonNode d = c.get(k);
        if (d == null || d.isNull()) {
            return;
        }
        if (!d.isObject()) {
            out.add(k + " must be a dict, found " + d);
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!value.test(e.getValue())) {
                out.add(k + " entry '" + e.getKey() + "' must be " + what + ", found " + e.getValue());
            }
        }
    }
}
