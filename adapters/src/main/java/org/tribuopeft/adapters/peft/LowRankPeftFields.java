package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.property.ListProperty;
import com.oracle.labs.mlrg.olcut.config.property.MapProperty;
import com.oracle.labs.mlrg.olcut.config.property.Property;
import com.oracle.labs.mlrg.olcut.config.property.SimpleProperty;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.TargetModule;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.TargetSelection;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The adapter_config.json fields and tensor checks that every method built on {@link LowRankConfig}
 * shares (targets, layers, alpha, dropout, bias), used by the methods' {@link PeftForm}s in both
 * directions so each method writes only what is its own.
 */
public final class LowRankPeftFields {
    /** The keys of PEFT's LoraConfig (0.21) that every low-rank form understands or may ignore safely. */
    public static final Set<String> SHARED_KEYS = Set.of(
            "peft_type", "task_type", "base_model_name_or_path", "revision", "inference_mode", "auto_mapping",
            "r", "target_modules", "exclude_modules", "layers_to_transform", "layers_pattern", "bias", "fan_in_fan_out",
            "modules_to_save", "peft_version");

    private LowRankPeftFields() {}

    /**
     * Reads the shared low-rank settings into OLCUT property text, for {@link #instantiate}.
     *
     * @param alphaKey the config key holding alpha ({@code lora_alpha}), or null for a method without one
     * @param dropoutKey the config key holding the adapter-input dropout
     */
    public static Map<String, String> readShared(JsonNode cfg, Path file, String alphaKey, String dropoutKey)
            throws ModelFileException {
        Map<String, String> props = new LinkedHashMap<>();
        applyCommon(cfg, file, props);
        if (alphaKey != null) {
            props.put("alpha", required(cfg, alphaKey, file).asText());
        }
        props.put("dropout", cfg.path(dropoutKey).asText("0.0"));
        return props;
    }

    /** Writes the shared low-rank settings: targets, layers, dropout under {@code dropoutKey}, bias, fan_in_fan_out. */
    public static void writeShared(ObjectNode c, LowRankConfig cfg, Set<String> adapted, PeftKeyStyle style,
                                   String dropoutKey) {
        putTargets(c, cfg, adapted, style);
        c.put(dropoutKey, cfg.dropout());
        c.put("bias", cfg.bias().peftName());
        c.put("fan_in_fan_out", false);
    }

    /**
     * The modules a folder's settings adapt in the base model.
     *
     * @throws ModelFileException when the targets do not fit the base
     */
    public static List<String> selectModules(LowRankConfig method, BertConfig base, Path configFile)
            throws ModelFileException {
        try {
            return method.targets().select(base);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(configFile, "target_modules do not fit the base model: " + e.getMessage(), e);
        }
    }

    /** The [in, out] features of one adapted module in the base model. */
    public static long[] inOut(String module, BertConfig base) {
        TargetSelection.Located loc = TargetSelection.locate(module);
        boolean ffnUp = loc.target() == TargetModule.INTERMEDIATE;
        boolean ffnDown = loc.target() == TargetModule.OUTPUT;
        long in = ffnDown ? base.intermediateSize() : base.hiddenSize();
        long out = ffnUp ? base.intermediateSize() : base.hiddenSize();
        return new long[] {in, out};
    }

    /**
     * Refuses adapter tensors (names holding {@code marker}) of modules the settings do not select.
     *
     * @throws ModelFileException naming the first such tensor
     */
    public static void refuseUnselected(Map<String, HostTensor> tensors, List<String> modules, String marker, Path file)
            throws ModelFileException {
        for (String name : tensors.keySet()) {
            if (name.contains(marker) && modules.stream().noneMatch(m -> name.startsWith(m + marker))) {
                throw new ModelFileException(file, "tensor '" + name + "' belongs to a module that target_modules does "
                        + "not select");
            }
        }
    }

    /** A config key that must be present and not null. */
    public static JsonNode required(JsonNode cfg, String key, Path file) throws ModelFileException {
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
    public static String ourRegex(String peftRegex) {
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
    public static String ourModuleName(String peftName) {
        return peftName.startsWith("bert.encoder.") || peftName.startsWith("bert.pooler") ? peftName.substring(5)
                : peftName;
    }

    /**
     * A LoRA {@code rank_pattern} or {@code alpha_pattern} as key → value text. Keys are PEFT's, relative to
     * the wrapped model; a {@code bert.} prefix (sequence-classification models), or our writer's optional one
     * after {@code ^}, is dropped because module names here start at {@code encoder.}.
     */
    public static Map<String, String> pattern(JsonNode cfg, String key, Path file) throws ModelFileException {
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
    public static Object instantiate(Class<?> type, Map<String, String> props, Map<String, Map<String, String>> maps,
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

    /** Checks that a tensor is present with the shape the base model needs. */
    public static void expect(Map<String, HostTensor> tensors, Path file, String name, long[] shape)
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

    /**
     * Writes {@code target_modules}, {@code layers_to_transform} and {@code layers_pattern} with PEFT's types:
     * a list holds module names matched as suffixes, a string is either {@code all-linear} or a regular
     * expression over the whole module name (PEFT reads the list {@code ["all-linear"]} as a module name and
     * finds none). PEFT refuses layers_to_transform beside a string, so a regex or all-linear restricted to
     * some layers is written as the list of the modules it selected.
     */
    public static void putTargets(ObjectNode c, LowRankConfig cfg, Set<String> adapted, PeftKeyStyle style) {
        boolean allLinear = cfg.targetRegex().isEmpty() && cfg.targetModules().equals(List.of(TargetSelection.ALL_LINEAR));
        boolean stringForm = !cfg.targetRegex().isEmpty() || allLinear;
        if (stringForm && !cfg.layersToTransform().isEmpty()) {
            ArrayNode targets = c.putArray("target_modules");
            adapted.forEach(targets::add);
        } else if (allLinear) {
            c.put("target_modules", TargetSelection.ALL_LINEAR);
        } else if (!cfg.targetRegex().isEmpty()) {
            c.put("target_modules", peftRegex(cfg.targetRegex(), style));
        } else {
            ArrayNode targets = c.putArray("target_modules");
            cfg.targetModules().forEach(targets::add);
        }
        if (stringForm || cfg.layersToTransform().isEmpty()) {
            c.putNull("layers_to_transform");
            c.putNull("layers_pattern");
        } else {
            ArrayNode layers = c.putArray("layers_to_transform");
            cfg.layersToTransform().forEach(layers::add);
            c.put("layers_pattern", "layer");
        }
    }

    /**
     * Our regex is over names that start at {@code encoder.}; PEFT matches it against the wrapped model's full
     * module names, which start with {@code bert.} in a sequence classifier, so the prefix is made optional there.
     */
    public static String peftRegex(String regex, PeftKeyStyle style) {
        String prefix = style.modulePrefix();
        // Python's re has no \\Q..\\E quoting; module prefixes hold only letters and dots
        return prefix.isEmpty() ? regex : "(?:" + prefix.replace(".", "\\.") + ")?(?:" + regex + ")";
    }

    /**
     * A rank_pattern / alpha_pattern key as PEFT matches it ({@code (.*\.)?(key)$} from the start of the full
     * module name): a key anchored with {@code ^} at our {@code encoder.} names would match nothing under a
     * sequence classifier's {@code bert.} prefix, so the prefix is made optional there.
     */
    public static String peftPatternKey(String key, PeftKeyStyle style) {
        String prefix = style.modulePrefix();
        return key.startsWith("^") && !prefix.isEmpty()
                ? "^(?:" + prefix.replace(".", "\\.") + ")?" + key.substring(1) : key;
    }

    /** PEFT types lora_alpha as an int: a whole number is written as one, anything else stays a float. */
    public static void putNumber(ObjectNode node, String key, double value) {
        if (value == Math.rint(value) && Math.abs(value) < Integer.MAX_VALUE) {
            node.put(key, (int) value);
        } else {
            node.put(key, value);
        }
    }

}
