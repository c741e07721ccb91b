package org.tribuopeft.adapters.prompt;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.PromptLearningDescriptor;

/**
 * Registers prompt tuning as the method {@code prompt}: PEFT's PROMPT_TUNING folder; the base stays exactly
 * as loaded, so many prompt-tuned adapters can share it.
 */
public final class PromptTuningDescriptor extends PromptLearningDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public PromptTuningDescriptor() {
        super("prompt", "trainable virtual-token embeddings before every input, backbone frozen (Lester et al. 2021); "
                + "the fewest trainable values, weaker than LoRA on small encoders",
                PromptTuningConfig.class, new PromptTuningPeftForm());
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
