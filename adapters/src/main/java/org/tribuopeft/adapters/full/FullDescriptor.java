package org.tribuopeft.adapters.full;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * Registers full fine-tuning as the method {@code full}: no PEFT adapter (it saves as a Hugging Face
 * model folder), ONNX merged only, and it changes the base.
 */
public final class FullDescriptor implements MethodDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public FullDescriptor() { }

    @Override
    public String name() {
        return "full";
    }

    @Override
    public String summary() {
        return "every backbone weight trains; the baseline the adapters are measured against";
    }

    @Override
    public Class<? extends AdapterMethod> configClass() {
        return FullFineTuning.class;
    }

    @Override
    public Optional<PeftForm> peftForm() {
        return Optional.empty();
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return OnnxForm.MERGED_ONLY;
    }

    @Override
    public String mergedOnlyReason() {
        return "full fine-tuning changes every weight; export it merged instead";
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        return Optional.of("changes base weights (full fine-tuning trains every weight)");
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new FullFineTuning();
    }

    @Override
    public double benchmarkLearningRate() {
        return 5e-5;
    }
}
