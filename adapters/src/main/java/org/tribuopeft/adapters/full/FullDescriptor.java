package org.tribuopeft.adapters.full;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.NamedDescriptor;

import java.util.Optional;

/**
 * Registers full fine-tuning as the method {@code full}: no PEFT adapter (it saves as a Hugging Face
 * model folder), ONNX merged only, and it changes the base.
 */
public final class FullDescriptor extends NamedDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public FullDescriptor() {
        // no PEFT adapter form: it saves as a Hugging Face model folder
        super("full", "every backbone weight trains; the baseline the adapters are measured against",
                FullFineTuning.class, null);
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
    public Optional<String> quantizedBaseConflict(AdapterMethod method) {
        return Optional.of("full fine-tuning trains every Linear weight, and quantized weights cannot train; train "
                + "an adapter (lora, dora, adalora, vera, prompt or prefix tuning) on the quantized base, or remove "
                + "the quantization");
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
