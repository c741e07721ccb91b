package org.tribuopeft.adapters.adalora;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.LowRankDescriptor;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers AdaLoRA as the method {@code adalora}: PEFT's ADALORA type; to ONNX as adapter inputs of the
 * kept triplets, with Λ folded into A and alpha/(r + 1e-5) into B.
 */
public final class AdaLoraDescriptor extends LowRankDescriptor {
    /** For {@link java.util.ServiceLoader}. */
    public AdaLoraDescriptor() {
        super("adalora", "SVD-form update whose rank budget moves to the layers that matter during training "
                + "(Zhang et al. 2023)",
                AdaLoraConfig.class, new AdaLoraPeftForm());
    }

    @Override
    public Map<String, HostTensor> onnxAdapterInputs(AdapterMethod method, Map<String, HostTensor> tensors,
                                                     Map<String, boolean[]> rankMasks) {
        AdaLoraConfig a = (AdaLoraConfig) method;
        Map<String, HostTensor> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> {
            if (name.endsWith(".lora_A")) {
                String module = name.substring(0, name.length() - ".lora_A".length());
                adaLora(out, module, t, tensors.get(module + ".lora_E"), tensors.get(module + ".lora_B"),
                        rankMasks.get(module), a.alpha() / (a.initR() + 1e-5));
            }
        });
        return out;
    }

    @Override
    public AdapterMethod benchmarkSettings(int plannedSteps) {
        return new AdaLoraConfig(12, 8, 16, List.of("query", "value")).withSchedule(plannedSteps / 10, plannedSteps / 5,
                10);
    }

    /**
     * {@code 1e-2}, its own default ({@link AdaLoraConfig#defaultLearningRate()}): over three IMDB seeds it was above
     * the earlier 5e-3 on every seed (docs/benchmarks.md, "AdaLoRA against LoRA at the same rank budget").
     */
    @Override
    public double benchmarkLearningRate() {
        return 1e-2;
    }

    private static void adaLora(Map<String, HostTensor> out, String module, HostTensor a, HostTensor e, HostTensor b,
                                boolean[] keep, double pathScale) {
        int r = (int) a.dim(0);
        int in = (int) a.dim(1);
        int outDim = (int) b.dim(0);
        int kept = 0;
        for (int i = 0; i < r; i++) {
            kept += keep == null || keep[i] ? 1 : 0;
        }
        if (kept == 0) {
            return; // a rank-0 layer: the graph's zero defaults already mean "no update"
        }
        float[] at = new float[in * kept];
        float[] bt = new float[kept * outDim];
        int k = 0;
        for (int i = 0; i < r; i++) {
            if (keep != null && !keep[i]) {
                continue;
            }
            float lambda = e.data()[i];
            for (int j = 0; j < in; j++) {
                at[j * kept + k] = a.data()[i * in + j] * lambda;
            }
            for (int o = 0; o < outDim; o++) {
                bt[k * outDim + o] = (float) (b.data()[o * r + i] * pathScale);
            }
            k++;
        }
        out.put(module + ".lora_A", new HostTensor(new long[] {in, kept}, at));
        out.put(module + ".lora_B", new HostTensor(new long[] {kept, outDim}, bt));
    }

}
