package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.config.property.ListProperty;
import com.oracle.labs.mlrg.olcut.config.property.MapProperty;
import com.oracle.labs.mlrg.olcut.config.property.Property;
import com.oracle.labs.mlrg.olcut.config.property.SimpleProperty;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.io.FiniteTensors;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.TargetSelection;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads a Hugging Face PEFT folder (LORA, LORA with use_dora, ADALORA) into a {@link PeftAdapter}
 * for a given base model. Every tensor is checked against the base's shapes; required config keys
 * must be present; config keys from newer PEFT versions that this library does not know are kept
 * and reported rather than failing; settings that would change the math and are not implemented
 * (fan_in_fan_out, layer replication, the settings in {@link #UNSUPPORTED_WHEN_SET}) are refused by name.
 * LoRA's {@code rank_pattern} and {@code alpha_pattern} become {@link LoraConfig}'s per-module patterns.
 */
public final class PeftAdapterReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Keys of PEFT's LoraConfig and AdaLoraConfig (0.20) that this reader understands or may ignore safely. */
    static final Set<String> KNOWN_KEYS = Set.of(
            "peft_type", "task_type", "base_model_name_or_path", "revision", "inference_mode", "auto_mapping",
            "r", "lora_alpha", "lora_dropout", "target_modules", "exclude_modules", "layers_to_transform",
            "layers_pattern", "bias", "fan_in_fan_out", "use_rslora", "use_dora", "init_lora_weights",
            "modules_to_save", "rank_pattern", "alpha_pattern", "megatron_config", "megatron_core", "loftq_config",
            "eva_config", "corda_config", "layer_replication", "lora_bias", "trainable_token_indices", "runtime_config",
            "target_parameters", "peft_version", "init_r", "target_r", "tinit", "tfinal", "deltaT", "beta1", "beta2",
            "orth_reg_weight", "total_step", "use_qalora", "qalora_group_size", "ensure_weight_tying",
            "alora_invocation_tokens", "use_bdlora", "arrow_config", "kasa_config", "lora_ga_config",
            "monteclora_config", "velora_config");

    /** Settings (PEFT 0.21) that change the forward pass when set, which this library does not implement. */
    static final Map<String, String> UNSUPPORTED_WHEN_SET = Map.of(
            "lora_bias", "a trainable bias on lora_B",
            "use_qalora", "quantization-aware LoRA",
            "use_bdlora", "block-diagonal LoRA",
            "alora_invocation_tokens", "activated LoRA",
            "trainable_token_indices", "trainable token embeddings",
            "arrow_config", "Arrow routing between adapters");

    private PeftAdapterReader() {}

    /**
     * Reads a folder.
     *
     * @param dir the PEFT folder
     * @param base the architecture of the base model the adapter must fit
     * @throws ModelFileException naming the file and the key or tensor at fault
     */
    public static PeftAdapter read(Path dir, BertConfig base) throws IOException {
        Path configFile = dir.resolve(PeftAdapterWriter.CONFIG);
        Path weightsFile = dir.resolve(PeftAdapterWriter.WEIGHTS);
        JsonNode cfg;
        try {
            cfg = JSON.readTree(Files.readAllBytes(configFile));
        } catch (NoSuchFileException e) {
            throw new ModelFileException(configFile, "does not exist; a PEFT folder needs adapter_config.json", e);
        } catch (IOException e) {
            throw new ModelFileException(configFile, "is not valid JSON: " + e.getMessage(), e);
        }
        if (cfg == null || !cfg.isObject()) {
            throw new ModelFileException(configFile, "must hold a JSON object");
        }
        Map<String, String> unknown = new TreeMap<>();
        for (Iterator<String> it = cfg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KNOWN_KEYS.contains(k)) {
                unknown.put(k, cfg.get(k).toString());
            }
        }
        if (!unknown.isEmpty()) {
            System.err.println("NOTE: " + configFile + " has keys this version does not know (kept, not used): "
                    + unknown.keySet());
        }
        for (Map.Entry<String, String> u : UNSUPPORTED_WHEN_SET.entrySet()) {
            JsonNode v = cfg.get(u.getKey());
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean()) && !(v.isContainerNode() && v.isEmpty())) {
                throw new ModelFileException(configFile, u.getKey() + "=" + v + " asks for " + u.getValue()
                        + ", which this library does not implement");
            }
        }
        String type = required(cfg, "peft_type", configFile).asText();
        LowRankConfig method = switch (type) {
            case "LORA" -> loraConfig(cfg, configFile);
            case "ADALORA" -> adaLoraConfig(cfg, configFile);
            default -> throw new ModelFileException(configFile, "peft_type '" + type
                    + "' is not supported; LORA (with or without use_dora) and ADALORA are");
        };
        SafetensorsReader.Content content = SafetensorsReader.read(weightsFile);
        // checked before any use, so a damaged file is not mistaken later for a diverged training run
        FiniteTensors.require(weightsFile, content.floats());
        PeftKeyStyle style = detectStyle(content.floats().keySet(), weightsFile);
        List<String> modules;
        try {
            modules = method.targets().select(base);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(configFile, "target_modules do not fit the base model: " + e.getMessage(), e);
        }
        if (method instanceof LoraConfig l) {
            method = keepPatternKeysThatSelect(l, modules, configFile);
        }
        Map<String, boolean[]> masks = method instanceof AdaLoraConfig a
                ? rankPattern(cfg, style, modules, a.initR(), configFile) : Map.of();
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : content.floats().entrySet()) {
            String key = e.getKey();
            String name;
            if (key.startsWith(style.encoderPrefix() + "pooler.")) {
                // PEFT's "dense" also matches BertModel's pooler, which this encoder does not have and which
                // does not affect last_hidden_state
                ignored.add(key);
                continue;
            }
            if (key.startsWith(style.encoderPrefix() + "encoder.") || key.startsWith(style.encoderPrefix() + "embeddings.")) {
                name = key.substring(style.encoderPrefix().length()).replace(".base_layer.bias", ".bias");
            } else if (key.startsWith(PeftKeyStyle.HEAD_PREFIX + "classifier.")) {
                name = key.substring(PeftKeyStyle.HEAD_PREFIX.length());
            } else {
                throw new ModelFileException(weightsFile, "tensor '" + key + "' is neither an encoder adapter tensor nor "
                        + "the classifier head (prefix " + style.encoderPrefix() + ")");
            }
            tensors.put(name, e.getValue());
        }
        if (!ignored.isEmpty()) {
            System.err.println("NOTE: " + weightsFile + " adapts the pooler, which this encoder has no use for; ignored: "
                    + ignored);
        }
        checkAndExpand(tensors, modules, method, masks, base, weightsFile);
        String baseName = cfg.path("base_model_name_or_path").asText("");
        int totalStep = cfg.path("total_step").isInt() ? cfg.get("total_step").asInt() : 0;
        return new PeftAdapter(method, tensors, masks, baseName, unknown, style,
                method instanceof AdaLoraConfig ? totalStep : 0);
    }

    private static JsonNode required(JsonNode cfg, String key, Path file) throws ModelFileException {
        JsonNode n = cfg.get(key);
        if (n == null || n.isNull()) {
            throw new ModelFileException(file, "required key '" + key + "' is missing");
        }
        return n;
    }

    private static void applyCommon(JsonNode cfg, Path file, Map<String, String> props)
            throws ModelFileException {
        JsonNode targets = required(cfg, "target_modules", file);
        if (targets.isTextual() && targets.asText().equalsIgnoreCase(TargetSelection.ALL_LINEAR)) {
            props.put("targetModules", TargetSelection.ALL_LINEAR);
        } else if (targets.isTextual()) {
            props.put("targetRegex", ourRegex(targets.asText()));
            props.put("targetModules", "");
        } else if (targets.isArray()) {
            List<String> list = new ArrayList<>();
            for (JsonNode t : targets) {
                if (!t.isTextual()) {
                    throw new ModelFileException(file, "target_modules entries must be module names (strings), found "
                            + t);
                }
                String entry = ourModuleName(t.asText());
                if (entry.equals("pooler.dense") || entry.equals("pooler")) {
                    // PEFT saves all-linear as the list of every Linear, the pooler's included; this encoder has none
                    System.err.println("NOTE: " + file + " targets " + t.asText() + ", which this encoder has no use "
                            + "for; ignored");
                    continue;
                }
                list.add(entry);
            }
            props.put("targetModules", String.join(",", list));
        } else {
            throw new ModelFileException(file, "target_modules must be a list of module names or a string (a regular "
                    + "expression, or all-linear), found " + targets);
        }
        JsonNode layers = cfg.get("layers_to_transform");
        if (layers != null && !layers.isNull()) {
            List<String> ls = new ArrayList<>();
            if (layers.isIntegralNumber()) {
                ls.add(layers.asText());
            } else if (layers.isArray()) {
                for (JsonNode l : layers) {
                    if (!l.isIntegralNumber()) {
                        throw new ModelFileException(file, "layers_to_transform entries must be layer indices "
                                + "(integers), found " + l);
                    }
                    ls.add(l.asText());
                }
            } else {
                throw new ModelFileException(file, "layers_to_transform must be a layer index or a list of them, found "
                        + layers);
            }
            props.put("layersToTransform", String.join(",", ls));
        }
        props.put("alpha", required(cfg, "lora_alpha", file).asText());
        props.put("dropout", cfg.path("lora_dropout").asText("0.0"));
        try {
            props.put("bias", BiasMode.fromPeftName(cfg.path("bias").asText("none")).name());
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, "bias: " + e.getMessage(), e);
        }
        JsonNode exclude = cfg.get("exclude_modules");
        if (exclude != null && !exclude.isNull() && !(exclude.isContainerNode() && exclude.isEmpty())) {
            // ignoring it would adapt modules PEFT left alone and then fail on their missing tensors
            throw new ModelFileException(file, "exclude_modules=" + exclude + " is not supported; list the adapted "
                    + "modules in target_modules instead");
        }
        if (cfg.path("fan_in_fan_out").asBoolean(false)) {
            throw new ModelFileException(file, "fan_in_fan_out=true is for GPT-2 style Conv1D weights; BERT's Linear "
                    + "layers need false");
        }
        JsonNode replication = cfg.get("layer_replication");
        if (replication != null && !replication.isNull()) {
            throw new ModelFileException(file, "layer_replication is not supported");
        }
    }

    /**
     * PEFT matches a regex against the wrapped model's module names, which start with {@code bert.} in a
     * sequence classifier; ours start at {@code encoder.}, so that prefix is dropped (and our writer's
     * optional-prefix wrapper undone).
     */
    static String ourRegex(String peftRegex) {
        String wrapped = "(?:bert\\.)?(?:";
        if (peftRegex.startsWith(wrapped) && peftRegex.endsWith(")")) {
            return peftRegex.substring(wrapped.length(), peftRegex.length() - 1);
        }
        return peftRegex.startsWith("bert\\.") ? peftRegex.substring("bert\\.".length()) : peftRegex;
    }

    /**
     * A {@code target_modules} list entry with a sequence classifier's {@code bert.} prefix dropped (PEFT saves
     * all-linear as full module names, which start with {@code bert.encoder.} there and at {@code encoder.} here).
     */
    static String ourModuleName(String peftName) {
        return peftName.startsWith("bert.encoder.") || peftName.startsWith("bert.pooler") ? peftName.substring(5)
                : peftName;
    }

    private static LowRankConfig loraConfig(JsonNode cfg, Path file) throws ModelFileException {
        Map<String, String> props = new LinkedHashMap<>();
        applyCommon(cfg, file, props);
        props.put("rank", required(cfg, "r", file).asText());
        props.put("useRslora", Boolean.toString(cfg.path("use_rslora").asBoolean(false)));
        JsonNode init = cfg.get("init_lora_weights");
        String initValue = init == null || init.isBoolean() ? "true" : init.asText();
        props.put("init", switch (initValue) {
            case "true", "false" -> LoraInit.KAIMING.name();
            case "gaussian" -> LoraInit.GAUSSIAN.name();
            case "pissa" -> LoraInit.PISSA.name();
            default -> throw new ModelFileException(file, "init_lora_weights '" + initValue + "' is not supported");
        });
        Map<String, Map<String, String>> patterns = new LinkedHashMap<>();
        patterns.put("rankPattern", pattern(cfg, "rank_pattern", file));
        patterns.put("alphaPattern", pattern(cfg, "alpha_pattern", file));
        boolean dora = cfg.path("use_dora").asBoolean(false);
        return (LowRankConfig) instantiate(dora ? DoraConfig.class : LoraConfig.class, props, patterns, file);
    }

    private static LowRankConfig adaLoraConfig(JsonNode cfg, Path file) throws ModelFileException {
        Map<String, String> props = new LinkedHashMap<>();
        applyCommon(cfg, file, props);
        props.put("initR", required(cfg, "init_r", file).asText());
        props.put("targetR", required(cfg, "target_r", file).asText());
        for (String[] k : new String[][] {{"tinit", "tinit"}, {"tfinal", "tfinal"}, {"deltaT", "deltaT"},
            {"beta1", "beta1"}, {"beta2", "beta2"}, {"orth_reg_weight", "orthRegWeight"}, {"total_step", "totalStep"}}) {
            JsonNode v = cfg.get(k[0]);
            if (v != null && !v.isNull()) {
                props.put(k[1], v.asText());
            }
        }
        if (cfg.path("alpha_pattern").size() > 0) {
            System.err.println("NOTE: " + file + " has an alpha_pattern, which PEFT's AdaLoRA does not use (every layer "
                    + "gets lora_alpha); ignored here too");
        }
        return (LowRankConfig) instantiate(AdaLoraConfig.class, props, Map.of(), file);
    }

    /**
     * A LoRA {@code rank_pattern} or {@code alpha_pattern} as key → value text. Keys are PEFT's, relative to
     * the wrapped model; a {@code bert.} prefix (sequence-classification models), or our writer's optional one
     * after {@code ^}, is dropped because module names here start at {@code encoder.}.
     */
    private static Map<String, String> pattern(JsonNode cfg, String key, Path file) throws ModelFileException {
        JsonNode node = cfg.get(key);
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw new ModelFileException(file, key + " must be an object mapping module patterns to numbers, found "
                    + node);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNumber()) {
                throw new ModelFileException(file, key + " entry '" + e.getKey() + "' must be a number, found "
                        + e.getValue());
            }
            String prefix = PeftKeyStyle.SEQUENCE_CLASSIFICATION.modulePrefix();
            String optionalPrefix = "^(?:bert\\.)?";
            String modulePattern = e.getKey().startsWith(prefix) ? e.getKey().substring(prefix.length())
                    : e.getKey().startsWith(optionalPrefix) ? "^" + e.getKey().substring(optionalPrefix.length())
                    : e.getKey();
            out.put(modulePattern, e.getValue().asText());
        }
        return out;
    }

    /** Builds a method through OLCUT so every setting passes the same validation as a config file. */
    private static Object instantiate(Class<?> type, Map<String, String> props, Map<String, Map<String, String>> maps,
                                      Path file) throws ModelFileException {
        Map<String, Property> p = new LinkedHashMap<>();
        maps.forEach((k, v) -> p.put(k, MapProperty.createFromStringMap(v)));
        props.forEach((k, v) -> {
            if (k.equals("targetModules") || k.equals("layersToTransform")) {
                List<String> items = new ArrayList<>();
                for (String s : v.split(",")) {
                    if (!s.isBlank()) {
                        items.add(s.trim());
                    }
                }
                p.put(k, ListProperty.createFromStringList(items));
            } else {
                p.put(k, new SimpleProperty(v));
            }
        });
        try {
            ConfigurationManager cm = new ConfigurationManager();
            cm.addConfiguration(new ConfigurationData("method", type.getName(), p));
            return cm.lookup("method");
        } catch (RuntimeException e) {
            throw new ModelFileException(file, "settings are not valid: " + e.getMessage(), e);
        }
    }

    /**
     * PEFT ignores pattern keys that select no adapted module; they are dropped here too, with a note, and
     * keys that give one module two different values are refused. Returns the config without the dropped keys
     * (a new one when any were dropped: configs are not changed in place).
     */
    private static LoraConfig keepPatternKeysThatSelect(LoraConfig l, List<String> modules, Path file)
            throws ModelFileException {
        LoraConfig kept = l;
        List<String> unusedRanks = l.rankPattern().keysSelectingNone(modules);
        List<String> unusedAlphas = l.alphaPattern().keysSelectingNone(modules);
        if (!unusedRanks.isEmpty() || !unusedAlphas.isEmpty()) {
            System.err.println("NOTE: " + file + " has rank_pattern/alpha_pattern keys that select no adapted module "
                    + "(ignored, as PEFT does): " + unusedRanks + " " + unusedAlphas);
            kept = l.withPatterns(l.rankPattern().without(unusedRanks), l.alphaPattern().without(unusedAlphas));
        }
        try {
            kept.checkSelection(modules);
        } catch (PropertyException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
        return kept;
    }

    private static PeftKeyStyle detectStyle(Set<String> keys, Path file) throws ModelFileException {
        boolean seq = keys.stream().anyMatch(k -> k.startsWith(PeftKeyStyle.SEQUENCE_CLASSIFICATION.encoderPrefix()));
        boolean bare = keys.stream().anyMatch(k -> k.startsWith(PeftKeyStyle.BARE_ENCODER.encoderPrefix() + "encoder."));
        if (seq && bare) {
            throw new ModelFileException(file, "mixes 'base_model.model.bert.' and 'base_model.model.encoder.' keys");
        }
        if (!seq && !bare) {
            throw new ModelFileException(file, "has no adapter tensors under 'base_model.model.encoder.' or "
                    + "'base_model.model.bert.encoder.'; keys found: " + keys.stream().limit(5).toList());
        }
        return seq ? PeftKeyStyle.SEQUENCE_CLASSIFICATION : PeftKeyStyle.BARE_ENCODER;
    }

    private static Map<String, boolean[]> rankPattern(JsonNode cfg, PeftKeyStyle style, List<String> modules, int initR,
                                                      Path file) throws ModelFileException {
        JsonNode pattern = cfg.get("rank_pattern");
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        for (String module : modules) {
            JsonNode bits = null;
            if (pattern != null && pattern.isObject()) {
                for (String key : new String[] {style.modulePrefix() + module + ".lora_E",
                    style.modulePrefix() + module + ".lora_E.default", style.encoderPrefix() + module + ".lora_E"}) {
                    if (pattern.has(key)) {
                        bits = pattern.get(key);
                    }
                }
            }
            boolean[] keep = new boolean[initR];
            if (bits == null) {
                Arrays.fill(keep, true);
            } else {
                if (bits.size() != initR) {
                    throw new ModelFileException(file, "rank_pattern for " + module + " has " + bits.size()
                            + " entries but init_r is " + initR);
                }
                for (int i = 0; i < initR; i++) {
                    keep[i] = bits.get(i).asBoolean();
                }
            }
            masks.put(module, keep);
        }
        return masks;
    }

    private static void checkAndExpand(Map<String, HostTensor> tensors, List<String> modules, LowRankConfig method,
                                       Map<String, boolean[]> masks, BertConfig base, Path file)
            throws ModelFileException {
        for (String module : modules) {
            TargetSelection.Located loc = TargetSelection.locate(module);
            boolean ffnUp = loc.target() == org.tribuopeft.adapters.backbone.TargetModule.INTERMEDIATE;
            boolean ffnDown = loc.target() == org.tribuopeft.adapters.backbone.TargetModule.OUTPUT;
            long in = ffnDown ? base.intermediateSize() : base.hiddenSize();
            long out = ffnUp ? base.intermediateSize() : base.hiddenSize();
            if (method instanceof AdaLoraConfig a) {
                boolean[] keep = masks.get(module);
                int kept = 0;
                for (boolean k : keep) {
                    kept += k ? 1 : 0;
                }
                expand(tensors, file, module + ".lora_A", new long[] {kept, in}, keep, false);
                expand(tensors, file, module + ".lora_E", new long[] {kept, 1}, keep, false);
                expand(tensors, file, module + ".lora_B", new long[] {out, kept}, keep, true);
            } else {
                int r = ((LoraConfig) method).rank(module);
                expect(tensors, file, module + ".lora_A.weight", new long[] {r, in});
                expect(tensors, file, module + ".lora_B.weight", new long[] {out, r});
                if (method instanceof DoraConfig) {
                    expect(tensors, file, module + ".lora_magnitude_vector", new long[] {out});
                }
            }
        }
        for (String name : tensors.keySet()) {
            if (name.contains(".lora_") && modules.stream().noneMatch(m -> name.startsWith(m + ".lora_"))) {
                throw new ModelFileException(file, "tensor '" + name + "' belongs to a module that target_modules does "
                        + "not select");
            }
        }
    }

    private static void expect(Map<String, HostTensor> tensors, Path file, String name, long[] shape)
            throws ModelFileException {
        HostTensor t = tensors.get(name);
        if (t == null) {
            throw new ModelFileException(file, "has no tensor for '" + name + "'");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFileException(file, "tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but the base model needs " + Arrays.toString(shape));
        }
    }

    /** Checks a sliced AdaLoRA factor and scatters it back to the full initial rank (pruned rows/columns zero). */
    private static void expand(Map<String, HostTensor> tensors, Path file, String name, long[] shape, boolean[] keep,
                               boolean columns) throws ModelFileException {
        expect(tensors, file, name, shape);
        HostTensor t = tensors.get(name);
        int r = keep.length;
        float[] src = t.data();
        if (columns) {
            int rows = (int) shape[0];
            int kept = (int) shape[1];
            float[] dst = new float[rows * r];
            for (int i = 0; i < rows; i++) {
                int c = 0;
                for (int j = 0; j < r; j++) {
                    if (keep[j]) {
                        dst[i * r + j] = src[i * kept + c++];
                    }
                }
            }
            tensors.put(name, new HostTensor(new long[] {rows, r}, dst));
        } else {
            int width = (int) shape[1];
            float[] dst = new float[r * width];
            int c = 0;
            for (int i = 0; i < r; i++) {
                if (keep[i]) {
                    System.arraycopy(src, c++ * width, dst, i * width, width);
                }
            }
            tensors.put(name, new HostTensor(new long[] {r, width}, dst));
        }
    }
}
