package org.tribuopeft.adapters.prefix;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * Registers prefix tuning as the method {@code prefix}: PEFT's PREFIX_TUNING folder; the base stays exactly as
 * loaded, so many prefix-tuned adapters can share it.
 */
public final class PrefixTuningDescriptor implements MethodDescriptor {
    private static final PeftForm PEFT = new PrefixTuningPeftForm();

    /** For {@link java.util.ServiceLoader}. */
    public PrefixTuningDescriptor() { }

    @Override
    public String name() {
        return "prefix";
    }

    @Override
    public String summary() {
        return "trainable keys and values before every attention layer's own, backbone frozen (Li and Liang 2021); "
                + "few trainable values, optional MLP projection while training";
    }

    @Override
    public Class<? extends AdapterMethod> configClass() {
        return PrefixTuningConfig.class;
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
        return "prefix tuning has no low-rank adapter inputs; export it merged (the prefix becomes constant keys and "
                + "values in the graph)";
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        return Optional.empty();
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
