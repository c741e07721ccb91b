package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * What the descriptors of methods that learn inputs rather than weights share (PEFT's prompt learning): the base
 * stays exactly as loaded, and ONNX export puts the learned inputs into the graph as constants.
 */
public abstract class PromptLearningDescriptor implements MethodDescriptor {
    private final PeftForm form;

    /**
     * @param form the method's PEFT folder form
     */
    protected PromptLearningDescriptor(PeftForm form) {
        this.form = form;
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
