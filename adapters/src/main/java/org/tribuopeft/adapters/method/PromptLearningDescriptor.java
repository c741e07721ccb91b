package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * What the descriptors of methods that learn inputs rather than weights share (PEFT's prompt learning): the base
 * stays exactly as loaded, and ONNX export puts the learned inputs into the graph as constants.
 */
public abstract class PromptLearningDescriptor extends NamedDescriptor {
    /**
     * The registration of one prompt-learning method.
     *
     * @param name the configuration name
     * @param summary one sentence for help texts
     * @param configClass the configuration component class
     * @param peftForm its PEFT folder form, or null for a method PEFT has no adapter form for
     */
    protected PromptLearningDescriptor(String name, String summary, Class<? extends AdapterMethod> configClass,
                                       PeftForm peftForm) {
        super(name, summary, configClass, peftForm);
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

    @Override
    public Optional<String> mixedBatchRefusal(AdapterMethod method) {
        return Optional.of(name() + " adds positions to every sequence, so its rows cannot share a forward pass with "
                + "other adapters' rows; it is batched on its own");
    }
}
