package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * The identity every registered method states the same way: its configuration name, a one-sentence summary for
 * help texts, its configuration class and its PEFT folder form. Families of methods (low-rank, prompt learning)
 * extend it and add what they share in how they run and export.
 */
public abstract class NamedDescriptor implements MethodDescriptor {
    private final String name;
    private final String summary;
    private final Class<? extends AdapterMethod> configClass;
    private final PeftForm peftForm;

    /**
     * The registration of one method.
     *
     * @param name the configuration name
     * @param summary one sentence for help texts
     * @param configClass the configuration component class
     * @param peftForm its PEFT folder form, or null for a method PEFT has no adapter form for
     */
    protected NamedDescriptor(String name, String summary, Class<? extends AdapterMethod> configClass,
                              PeftForm peftForm) {
        this.name = name;
        this.summary = summary;
        this.configClass = configClass;
        this.peftForm = peftForm;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String summary() {
        return summary;
    }

    @Override
    public Class<? extends AdapterMethod> configClass() {
        return configClass;
    }

    @Override
    public Optional<PeftForm> peftForm() {
        return Optional.ofNullable(peftForm);
    }
}
