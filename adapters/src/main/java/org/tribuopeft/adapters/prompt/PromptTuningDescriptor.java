package org.tribuopeft.adapters.prompt;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * Registers prompt tuning as the method {@code prompt}: PEFT's PROMPT_TUNING folder; the base stays exactly
 * as loaded, so many prompt-tuned adapters can share it.
 */
public final class PromptTuningDescriptor implements MethodDescriptor {
    private static final PeftForm PEFT = new PromptTuningPeftForm();

    /** For {@link java.util.ServiceLoader}. */
    public PromptTuningDescriptor() { }

    @Override
    public String name() {
        return "prompt";
    }

    @Override
    public String summary() {
        return "trainable virtual-token embeddings before every input, backbone frozen (Lester et al. 2021); "
                + "the fewest trainable values, weaker than LoRA on small encoders";
    }

    @Override
    public Class<? extends AdapterMethod> configClass() {
        return PromptTuningConfig.class;
    }

    @Override
    public Optional<PeftForm> peftForm() {
        return Optional.of(PEFT);
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return OnnxForm.MERGED_ONLY;
    }

    @Override
    public String mergedOnlyReason() {
        return "prompt tuning has no low-rank adapter inputs; export it merged (the virtual tokens become constant "
                + "embeddings in the graph)";
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        return Optional.empty();
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new PromptTuningConfig(20, "");
    }

    @Override
    public double benchmarkLearningRate() {
        return 3e-2;
    }
}
