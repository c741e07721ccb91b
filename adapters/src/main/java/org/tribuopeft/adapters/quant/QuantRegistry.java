package org.tribuopeft.adapters.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Every quantization format on the class path, found once with {@link ServiceLoader}. Unknown names fail with the
 * list of registered ones.
 */
public final class QuantRegistry {
    private static final List<QuantFormat> ALL = load();

    private QuantRegistry() {}

    private static List<QuantFormat> load() {
        List<QuantFormat> out = new ArrayList<>();
        for (QuantFormat f : ServiceLoader.load(QuantFormat.class, QuantFormat.class.getClassLoader())) {
            for (QuantFormat seen : out) {
                if (seen.name().equals(f.name())) {
                    throw new IllegalStateException("two quantization formats register '" + f.name() + "' ("
                            + seen.getClass().getName() + ", " + f.getClass().getName() + "); remove one jar");
                }
            }
            out.add(f);
        }
        return List.copyOf(out);
    }

    /** Every registered format, in registration order. */
    public static List<QuantFormat> all() {
        return ALL;
    }

    /** The registered names. */
    public static List<String> names() {
        return ALL.stream().map(QuantFormat::name).toList();
    }

    /** The format with this name (case-insensitive), if registered. */
    public static Optional<QuantFormat> find(String name) {
        return ALL.stream().filter(f -> f.name().equalsIgnoreCase(name == null ? "" : name.trim())).findFirst();
    }
}
