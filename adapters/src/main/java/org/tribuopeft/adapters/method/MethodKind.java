package org.tribuopeft.adapters.method;

import java.util.Locale;
import java.util.Optional;

/** The fine-tuning methods, with the names used in configuration and in PEFT's {@code peft_type}. */
public enum MethodKind {
    /** Low-rank adaptation (Hu et al. 2021). */
    LORA("lora", "LORA", "org.tribuopeft.adapters.lora.LoraConfig"),
    /** Weight-decomposed low-rank adaptation (Liu et al. 2024); PEFT stores it as LORA with use_dora. */
    DORA("dora", "LORA", "org.tribuopeft.adapters.dora.DoraConfig"),
    /** Adaptive budget allocation of SVD-form low-rank updates (Zhang et al. 2023). */
    ADALORA("adalora", "ADALORA", "org.tribuopeft.adapters.adalora.AdaLoraConfig"),
    /** Every backbone weight trainable: the baseline the adapters are compared against. */
    FULL("full", null, "org.tribuopeft.adapters.full.FullFineTuning");

    private final String configName;
    private final String peftType;
    private final String configClassName;

    MethodKind(String configName, String peftType, String configClassName) {
        this.configName = configName;
        this.peftType = peftType;
        this.configClassName = configClassName;
    }

    /**
     * The configuration component class of this method (a name, since this package sits below the method
     * packages), for messages that list the method types a configuration can use.
     */
    public String configClassName() {
        return configClassName;
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
