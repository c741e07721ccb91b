package org.tribuopeft.adapters.prefix;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.PromptLearningDescriptor;

/**
 * Registers prefix tuning as the method {@code prefix}: PEFT's PREFIX_TUNING folder; the base stays exactly as
 * loaded, so many prefix-tuned adapters can share it.
 */
public final class PrefixTuningDescriptor extends PromptLearningDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public PrefixTuningDescriptor() {
        super("prefix", "trainable keys and values before every attention layer's own, backbone frozen "
                + "(Li and Liang 2021); few trainable values, optional MLP projection while training",
                PrefixTuningConfig.class, new PrefixTuningPeftForm());
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new PrefixTuningConfig(20, false, 0);
    }

    @Override
    public double benchmarkLearningRate() {
        return 1e-2;
    }
}
