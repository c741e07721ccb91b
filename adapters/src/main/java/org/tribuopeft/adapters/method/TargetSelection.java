package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.TargetModule;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which Linear layers of the encoder an adapter wraps, with PEFT's matching rules so that a
 * {@code target_modules} list means the same thing here and in an {@code adapter_config.json}:
 * an entry matches a module whose full name equals it or ends with {@code "." + entry} (so
 * {@code dense} matches all three dense layers and {@code output.dense} matches both
 * {@code attention.output.dense} and the feed-forward {@code output.dense}); the single entry
 * {@code all-linear} selects every Linear; a regular expression, when given, must match the whole
 * module name and replaces the list. The task head is never a target.
 *
 * @param modules module-name suffixes, or {@code [all-linear]}
 * @param regex a regular expression over full module names, or empty
 * @param layers layer indices to adapt; empty means every layer
 */
public record TargetSelection(List<String> modules, String regex, List<Integer> layers) {
    /** PEFT's shorthand for every Linear except the output layer. */
    public static final String ALL_LINEAR = "all-linear";

    /** Copies the lists and normalises a null regex to empty. */
    public TargetSelection {
        modules = List.copyOf(modules == null ? List.of() : modules);
        regex = regex == null ? "" : regex;
        layers = List.copyOf(layers == null ? List.of() : layers);
        if (modules.isEmpty() && regex.isEmpty()) {
            throw new IllegalArgumentException("no target modules: give targetModules or targetRegex");
        }
        if (!regex.isEmpty()) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("targetRegex '" + regex + "' is not a valid regular expression: "
                        + e.getDescription());
            }
        }
    }

    /**
     * The full names ({@code encoder.layer.N.<path>}) of the modules selected in an encoder of this
     * configuration, in layer order.
     *
     * @throws IllegalArgumentException when a listed entry or the regex matches no module, or a layer
     *     index is out of range, naming the offending value
     */
    public List<String> select(BertConfig config) {
        for (int l : layers) {
            if (l < 0 || l >= config.numLayers()) {
                throw new IllegalArgumentException("layersToTransform contains " + l + " but the model has layers 0.."
                        + (config.numLayers() - 1));
            }
        }
        List<String> candidates = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            if (layers.isEmpty() || layers.contains(l)) {
                for (TargetModule t : TargetModule.values()) {
                    candidates.add(t.moduleName(l));
                }
            }
        }
        Set<String> selected = new LinkedHashSet<>();
        if (!regex.isEmpty()) {
            Pattern p = Pattern.compile(regex);
            for (String c : candidates) {
                if (p.matcher(c).matches()) {
                    selected.add(c);
                }
            }
            if (selected.isEmpty()) {
                throw new IllegalArgumentException("targetRegex '" + regex + "' matches no module; module names look "
                        + "like '" + TargetModule.QUERY.moduleName(0) + "'");
            }
            return List.copyOf(selected);
        }
        if (modules.size() == 1 && modules.get(0).equals(ALL_LINEAR)) {
            return List.copyOf(candidates);
        }
        for (String entry : modules) {
            if (entry.equals(ALL_LINEAR)) {
                throw new IllegalArgumentException("'all-linear' must be the only entry of targetModules");
            }
            boolean any = false;
            for (String c : candidates) {
                if (matches(c, entry)) {
                    selected.add(c);
                    any = true;
                }
            }
            if (!any) {
                throw new IllegalArgumentException("targetModules entry '" + entry + "' matches no module; use one of "
                        + "query, key, value, attention.output.dense, intermediate.dense, output.dense, dense, "
                        + "all-linear, or a targetRegex");
            }
        }
        List<String> ordered = new ArrayList<>();
        for (String c : candidates) {
            if (selected.contains(c)) {
                ordered.add(c);
            }
        }
        return ordered;
    }

    /** PEFT's rule: equal, or a suffix after a dot. */
    static boolean matches(String moduleName, String entry) {
        return moduleName.equals(entry) || moduleName.endsWith("." + entry);
    }

    /** Splits a full module name {@code encoder.layer.N.<path>} into its layer and slot. */
    public static Located locate(String moduleName) {
        String prefix = "encoder.layer.";
        if (!moduleName.startsWith(prefix)) {
            throw new IllegalArgumentException("not an encoder module: " + moduleName);
        }
        int dot = moduleName.indexOf('.', prefix.length());
        int layer = Integer.parseInt(moduleName.substring(prefix.length(), dot));
        String path = moduleName.substring(dot + 1);
        TargetModule t = TargetModule.parse(path)
                .orElseThrow(() -> new IllegalArgumentException("not an adaptable module: " + moduleName));
        return new Located(layer, t);
    }

    /**
     * A module's position in the encoder.
     *
     * @param layer the layer index
     * @param target the slot in that layer
     */
    public record Located(int layer, TargetModule target) {}
}
