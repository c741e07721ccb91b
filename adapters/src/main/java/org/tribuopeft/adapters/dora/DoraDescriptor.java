package org.tribuopeft.adapters.dora;

import org.tribuopeft.adapters.lora.LoraPeftForm;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.LowRankDescriptor;

import java.util.List;
import java.util.Optional;

/** Registers DoRA as the method {@code dora}: PEFT's LORA type with {@code use_dora}, exported to ONNX merged only. */
public final class DoraDescriptor extends LowRankDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public DoraDescriptor() {
        super("dora", "LoRA plus a trained magnitude per output row (Liu et al. 2024); closer to full fine-tuning, "
                + "slower steps",
                DoraConfig.class, new LoraPeftForm(true));
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return OnnxForm.MERGED_ONLY;
    }

    @Override
    public String mergedOnlyReason() {
        return "DoRA rescales each output row of the weight, which is not an additive low-rank input; export DoRA "
                + "models merged";
    }

    @Override
    public Optional<String> quantizedBaseConflict(AdapterMethod method) {
        return ((DoraConfig) method).quantizedBaseConflict();
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new DoraConfig(8, 16, 0.1, List.of("query", "value"));
    }
}
