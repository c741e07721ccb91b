package org.tribuopeft.adapters.method;

/** Which biases train alongside a low-rank adapter, as PEFT's {@code bias} option. */
public enum BiasMode {
    /** No bias trains (PEFT's default). */
    NONE("none"),
    /** Every bias of the encoder trains. */
    ALL("all"),
    /** Only the biases of the adapted Linears train. */
    LORA_ONLY("lora_only");

    private final String peftName;

    BiasMode(String peftName) {
        this.peftName = peftName;
    }

    /** The value PEFT writes in adapter_config.json. */
    public String peftName() {
        return peftName;
    }

    /** Parses PEFT's name. */
    public static BiasMode fromPeftName(String name) {
        for (BiasMode b : values()) {
            if (b.peftName.equalsIgnoreCase(name) || b.name().equalsIgnoreCase(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown bias mode '" + name + "'; use none, all or lora_only");
    }
}
