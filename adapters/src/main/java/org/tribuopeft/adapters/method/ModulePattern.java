package org.tribuopeft.adapters.method;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A per-module override map in PEFT's sense ({@code rank_pattern}, {@code alpha_pattern}): each key is a
 * regular expression that selects a module when the module's full name is the key, or ends with
 * {@code "." + key} (PEFT matches {@code (.*\.)?(key)$}). PEFT takes the first matching key in file order;
 * a configuration map has no order, so two keys that match one module with different values are an error
 * rather than a silent choice.
 *
 * @param <T> the value type
 */
public final class ModulePattern<T> {
    private final String field;
    private final SortedMap<String, T> entries;
    /** Key → the compiled {@code (.*\.)?(key)}, in key order. */
    private final Map<String, Pattern> selectors = new LinkedHashMap<>();

    /**
     * Keeps the entries in key order and compiles every key once.
     *
     * @param field the configuration field the map came from, for messages
     * @param entries key → value
     * @throws IllegalArgumentException naming the field and the key that does not compile
     */
    public ModulePattern(String field, Map<String, T> entries) {
        this.field = field;
        this.entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries == null ? Map.of() : entries));
        for (String key : this.entries.keySet()) {
            try {
                Pattern.compile(key);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException(field + " key '" + key + "' is not a regular expression: "
                        + e.getDescription());
            }
            selectors.put(key, Pattern.compile("(.*\\.)?(" + key + ")"));
        }
    }

    /** The configuration field the map came from. */
    public String field() {
        return field;
    }

    /** Key → value, in key order. */
    public SortedMap<String, T> entries() {
        return entries;
    }

    /** Whether the map has no entries. */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /**
     * The value for one module, if some key selects it.
     *
     * @param module a full module name such as {@code encoder.layer.0.attention.self.query}
     * @throws IllegalArgumentException when two keys select the module with different values
     */
    public Optional<T> valueFor(String module) {
        String chosenKey = null;
        T chosen = null;
        for (Map.Entry<String, T> e : entries.entrySet()) {
            if (!selects(e.getKey(), module)) {
                continue;
            }
            if (chosenKey != null && !Objects.equals(chosen, e.getValue())) {
                throw new IllegalArgumentException(field + " keys '" + chosenKey + "' and '" + e.getKey()
                        + "' both select " + module + " with different values (" + chosen + ", " + e.getValue()
                        + "); make the keys select disjoint modules");
            }
            chosenKey = e.getKey();
            chosen = e.getValue();
        }
        return Optional.ofNullable(chosen);
    }

    /**
     * Checks every key selects at least one of the adapted modules, so a misspelt key is an error
     * instead of a silently ignored setting, and that no module is selected by keys that disagree.
     *
     * @param modules the full names of the adapted modules
     * @throws IllegalArgumentException naming the first key at fault
     */
    public void checkEachKeySelects(List<String> modules) {
        List<String> unused = keysSelectingNone(modules);
        if (!unused.isEmpty()) {
            List<String> examples = modules.subList(0, Math.min(2, modules.size()));
            throw new IllegalArgumentException(field + " key '" + unused.get(0) + "' selects none of the adapted "
                    + "modules (such as " + String.join(", ", examples) + ")");
        }
        modules.forEach(this::valueFor);
    }

    /** The keys, in sorted order, that select none of the given modules. */
    public List<String> keysSelectingNone(List<String> modules) {
        List<String> unused = new ArrayList<>();
        for (String key : entries.keySet()) {
            if (modules.stream().noneMatch(m -> selects(key, m))) {
                unused.add(key);
            }
        }
        return unused;
    }

    /** The same map without the given keys. */
    public Map<String, T> without(Collection<String> keys) {
        Map<String, T> kept = new HashMap<>(entries);
        kept.keySet().removeAll(keys);
        return kept;
    }

    private boolean selects(String key, String module) {
        return selectors.get(key).matcher(module).matches();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModulePattern<?> p && field.equals(p.field) && entries.equals(p.entries);
    }

    @Override
    public int hashCode() {
        return Objects.hash(field, entries);
    }

    @Override
    public String toString() {
        return field + entries;
    }
}
