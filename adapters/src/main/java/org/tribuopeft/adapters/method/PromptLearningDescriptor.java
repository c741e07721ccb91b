package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * What the descriptors of methods that learn inputs rather than weights share (PEFT's prompt learning): the base
 * stays exactly as loaded, and ONNX export puts the learned inputs into the graph as constants.
 */
public abstract class PromptLearningDescriptor implements MethodDescriptor {
    private final String name;
    private final String summary;
    private final Class<? extends AdapterMethod> configClass;
    private final PeftForm form;

    /**
     * The registration of one prompt-learning method.
     *
     * @param name the configuration name
     * @param summary one sentence for help texts
     * @param configClass the configuration component class
     * @param form its PEFT folder form
     */
    protected PromptLearningDescriptor(String name, String summary, Class<? extends AdapterMethod> configClass,
                                       PeftForm form) {
        this.name = name;
        this.summary = summary;
        this.configClass = configClass;
        this.form = form;
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
        return Optional.of(form);
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return OnnxForm.MERGED_ONLY;
    }

    @Override
    public String mergedOnlyReason() {
        return name() + " learns inputs, not low-rank weight updates; export it merged (the learned inputs become "
                + "constants in the graph)";
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        return Optional.empty();
    }
}
