package org.tribuopeft.adapters.vera;

import org.tribuopeft.adapters.backbone.TargetModule;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.LowRankDescriptor;
import org.tribuopeft.adapters.method.TargetSelection;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers VeRA as the method {@code vera}: PEFT's VERA type (projections saved in the folder); to ONNX
 * as adapter inputs {@code lora_A} = (λ_d·A_s)ᵀ [in, r] and {@code lora_B} = (λ_b·B_s)ᵀ [r, out].
 */
public final class VeraDescriptor extends LowRankDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public VeraDescriptor() {
        super("vera", "shared frozen random projections with trained per-layer scaling vectors (Kopiczko et al. 2024); "
                + "about 10x fewer trainable parameters than LoRA", VeraConfig.class, new VeraPeftForm());
    }

    @Override
    public Map<String, HostTensor> onnxAdapterInputs(AdapterMethod method, Map<String, HostTensor> tensors,
                                                     Map<String, boolean[]> rankMasks) {
        HostTensor a = tensors.get(VeraConfig.VERA_A);
        HostTensor b = tensors.get(VeraConfig.VERA_B);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        tensors.forEach((name, lambdaD) -> {
            if (name.endsWith(".vera_lambda_d")) {
                String module = name.substring(0, name.length() - ".vera_lambda_d".length());
                HostTensor lambdaB = tensors.get(module + ".vera_lambda_b");
                out.put(module + ".lora_A", scaledA(a, lambdaD, inFeatures(tensors, module, a)));
                out.put(module + ".lora_B", scaledB(b, lambdaB));
            }
        });
        return out;
    }

    /**
     * A module's input width, which the tensors do not state: the FFN down-projection reads the widest input
     * (A's width); every other target reads the hidden size, which is the output width of every adapted module
     * but the FFN up-projection (or A's width when only that one is adapted).
     */
    private static int inFeatures(Map<String, HostTensor> tensors, String module, HostTensor a) {
        if (TargetSelection.locate(module).target() == TargetModule.OUTPUT) {
            return (int) a.dim(1);
        }
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name.endsWith(".vera_lambda_b") && TargetSelection.locate(name.substring(0, name.length()
                    - ".vera_lambda_b".length())).target() != TargetModule.INTERMEDIATE) {
                return (int) e.getValue().dim(0);
            }
        }
        return (int) a.dim(1);
    }

    /** (λ_d·A[:, :in])ᵀ, [in, r]. */
    private static HostTensor scaledA(HostTensor a, HostTensor lambdaD, int in) {
        int r = (int) a.dim(0);
        int cols = (int) a.dim(1);
        float[] t = new float[in * r];
        for (int k = 0; k < r; k++) {
            for (int j = 0; j < in; j++) {
                t[j * r + k] = a.data()[k * cols + j] * lambdaD.data()[k];
            }
        }
        return new HostTensor(new long[] {in, r}, t);
    }

    /** (λ_b·B[:out, :])ᵀ, [r, out]. */
    private static HostTensor scaledB(HostTensor b, HostTensor lambdaB) {
        int r = (int) b.dim(1);
        int out = (int) lambdaB.dim(0);
        float[] t = new float[r * out];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < r; k++) {
                t[k * out + o] = b.data()[o * r + k] * lambdaB.data()[o];
            }
        }
        return new HostTensor(new long[] {r, out}, t);
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new VeraConfig(256, 0.1, 0.1, List.of("query", "value"));
    }

    @Override
    public double benchmarkLearningRate() {
        return 4e-3;
    }
}
