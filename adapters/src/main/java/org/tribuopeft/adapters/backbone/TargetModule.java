package org.tribuopeft.adapters.backbone;

import java.util.Locale;
import java.util.Optional;

/**
 * The six Linear layers of a BERT layer that an adapter can wrap, with their Hugging Face module paths
 * relative to {@code encoder.layer.N}.
 */
public enum TargetModule {
    /** Attention query projection, [hidden, hidden]. */
    QUERY("attention.self.query"),
    /** Attention key projection, [hidden, hidden]. */
    KEY("attention.self.key"),
    /** Attention value projection, [hidden, hidden]. */
    VALUE("attention.self.value"),
    /** Attention output projection, [hidden, hidden]. */
    ATTENTION_OUTPUT("attention.output.dense"),
    /** Feed-forward up projection, [intermediate, hidden]. */
    INTERMEDIATE("intermediate.dense"),
    /** Feed-forward down projection, [hidden, intermediate]. */
    OUTPUT("output.dense");

    private final String path;

    TargetModule(String path) {
        this.path = path;
    }

    /** The module path inside a layer, e.g. {@code attention.self.query}. */
    public String path() {
        return path;
    }

    /** The full module name in layer {@code layer}, e.g. {@code encoder.layer.2.attention.self.query}. */
    public String moduleName(int layer) {
        return BertWeights.layerPrefix(layer) + path;
    }

    /** Looks a module up by its path or its enum name (case-insensitive). */
    public static Optional<TargetModule> parse(String text) {
        for (TargetModule t : values()) {
            if (t.path.equals(text) || t.name().equalsIgnoreCase(text.replace('.', '_').replace('-', '_'))) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return path.toLowerCase(Locale.ROOT);
    }
}
