package org.tribuopeft.adapters.method;

import java.util.Locale;
import java.util.Optional;

/** The fine-tuning methods, with the names used in configuration and in PEFT's {@code peft_type}. */
public enum MethodKind {
    /** Low-rank adaptation (Hu et al. 2021). */
    LORA("lora", "LORA"),
    /** Weight-decomposed low-rank adaptation (Liu et al. 2024); PEFT stores it as LORA with use_dora. */
    DORA("dora", "LORA"),
    /** Adaptive budget allocation of SVD-form low-rank updates (Zhang et al. 2023). */
    ADALORA("adalora", "ADALORA"),
    /** Every backbone weight trainable: the baseline the adapters are compared against. */
    FULL("full", null);

    private final String configName;
    private final String peftType;

    MethodKind(String configName, String peftType) {
        this.configName = configName;
        this.peftType = peftType;
    }

    /** The lower-case name used in configuration files and reports. */
    public String configName() {
        return configName;
    }

    /** PEFT's {@code peft_type} for this method, or null when PEFT has no adapter file for it. */
    public String peftType() {
        return peftType;
    }

    /** Looks a method up by its configuration name or enum name. */
    public static Optional<MethodKind> parse(String name) {
        for (MethodKind k : values()) {
            if (k.configName.equalsIgnoreCase(name) || k.name().equalsIgnoreCase(name)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return configName.toUpperCase(Locale.ROOT);
    }
}
