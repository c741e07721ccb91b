package org.tribuopeft.adapters.method;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Every fine-tuning method on the class path, found once with {@link ServiceLoader}: each method package
 * registers its {@link MethodDescriptor}. Lookups of an unknown method fail with the list of registered
 * ones, so a method can never be skipped silently.
 */
public final class MethodRegistry {
    private static final List<MethodDescriptor> ALL = load();

    private MethodRegistry() {}

    private static List<MethodDescriptor> load() {
        List<MethodDescriptor> out = new ArrayList<>();
        for (MethodDescriptor d : ServiceLoader.load(MethodDescriptor.class, MethodDescriptor.class.getClassLoader())) {
            for (MethodDescriptor seen : out) {
                if (seen.name().equals(d.name()) || seen.configClass() == d.configClass()) {
                    throw new IllegalStateException("two methods register '" + d.name() + "' ("
                            + seen.getClass().getName() + ", " + d.getClass().getName() + "); remove one jar");
                }
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    /** Every registered method, in class-path registration order. */
    public static List<MethodDescriptor> all() {
        return ALL;
    }

    /** The registered names, for messages and help texts. */
    public static List<String> names() {
        return ALL.stream().map(MethodDescriptor::name).toList();
    }

    /** The method with this configuration name (case-insensitive), if registered. */
    public static Optional<MethodDescriptor> find(String name) {
        return ALL.stream().filter(d -> d.name().equalsIgnoreCase(name)).findFirst();
    }

    /**
     * The method with this configuration name.
     *
     * @throws UnknownMethodException listing the registered names
     */
    public static MethodDescriptor byName(String name) {
        return find(name).orElseThrow(() -> new UnknownMethodException("unknown method '" + name
                + "'; the registered methods are " + names()));
    }

    /**
     * The descriptor of a method's settings.
     *
     * @throws UnknownMethodException when its class is not registered
     */
    public static MethodDescriptor of(AdapterMethod method) {
        return ALL.stream().filter(d -> d.describes(method)).findFirst().orElseThrow(() -> new UnknownMethodException(
                "method class " + method.getClass().getName() + " is not registered (add it to META-INF/services/"
                        + MethodDescriptor.class.getName() + "); the registered methods are " + names()));
    }
}
