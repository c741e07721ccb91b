package org.tribuopeft.adapters.relora;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.LowRankDescriptor;

import java.util.List;
import java.util.Optional;

/**
 * Registers ReLoRA as the method {@code relora}: no PEFT adapter (its resets rewrite the base, so it
 * saves as a Hugging Face model folder), ONNX merged only, and it changes the base.
 */
public final class ReLoraDescriptor extends LowRankDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public ReLoraDescriptor() {
        // no PEFT adapter form: its resets rewrite the base, so it saves as a Hugging Face model folder
        super("relora", "LoRA merged into the base and restarted every resetInterval steps (Lialin et al. 2023): a "
                + "high-rank update at LoRA's cost per step; saves as a whole model", ReLoraConfig.class, null);
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return OnnxForm.MERGED_ONLY;
    }

    @Override
    public String mergedOnlyReason() {
        return "ReLoRA merges its update into the base weights at every reset, so it has no adapter-input form over "
                + "the pretrained base; export it merged";
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        return Optional.of("changes base weights (ReLoRA merges its update into them at every reset)");
    }

    @Override
    public Optional<String> quantizedBaseConflict(AdapterMethod method) {
        return Optional.of("relora merges its update into the base weights at every reset and saves them as model "
                + "state, which a quantized base does not support; use lora on the quantized base, or remove the "
                + "quantization");
    }

    /** LoRA's benchmark budget, restarted every quarter of the run and re-warmed over a tenth of the interval. */
    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new ReLoraConfig(8, 16, 0.1, List.of("query", "value"), Math.max(2, plannedSteps / 4), 0.99,
                Math.max(1, plannedSteps / 40));
    }
}
