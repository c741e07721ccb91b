package org.tribuopeft.adapters.lora;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.LowRankDescriptor;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Registers LoRA (with its Gaussian and PiSSA initialisations) as the method {@code lora}. */
public final class LoraDescriptor extends LowRankDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public LoraDescriptor() {
        super("lora", "low-rank update s*B*A beside each target Linear (Hu et al. 2021); the default adapter",
                LoraConfig.class, new LoraPeftForm(false));
    }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        if (((LoraConfig) method).init() == LoraInit.PISSA) {
            return Optional.of("changes base weights (PiSSA subtracts its initial factors from every adapted "
                    + "weight, W <- W - s*B*A)");
        }
        return super.baseChange(method);
    }

    @Override
    public Optional<String> quantizedBaseConflict(AdapterMethod method) {
        return ((LoraConfig) method).quantizedBaseConflict();
    }

    @Override
    public Map<String, HostTensor> onnxAdapterInputs(AdapterMethod method, Map<String, HostTensor> tensors,
                                                     Map<String, boolean[]> rankMasks) {
        LoraConfig l = (LoraConfig) method;
        Map<String, HostTensor> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (name.endsWith(".lora_A.weight")) {
                String module = name.substring(0, name.length() - ".lora_A.weight".length());
                out.put(module + ".lora_A", t.transpose2d());
                out.put(module + ".lora_B", tensors.get(module + ".lora_B.weight").scaled(l.scaling())
                        .transpose2d());
            }
        });
        return out;
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new LoraConfig(8, 16, 0.1, List.of("query", "value"));
    }
}
