package org.tribuopeft.adapters.export;

import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskHead;
import org.tribuopeft.adapters.train.TextModel;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns a trained adapter into the graph-input values of {@link OnnxExporter}'s adapter form:
 * {@code <module>.lora_A} = Aᵀ [in, r] and {@code <module>.lora_B} = (s·B)ᵀ [r, out] (AdaLoRA: the kept
 * triplets, Λ folded into A and α/(r + 1e-5) into B), and the head transposed. Only additive low-rank
 * updates over the unchanged base can be expressed this way: DoRA (which rescales rows), PiSSA (which
 * changes the base) and trained biases are refused with the reason.
 */
public final class OnnxAdapterParameters {
    private OnnxAdapterParameters() {}

    /** The modules a model adapts (for declaring adapter inputs in the base graph). */
    public static Set<String> modules(TextModel model) {
        return new LinkedHashSet<>(model.adapted().layers().keySet());
    }

    /** The graph-input values of a model's adapter and head. */
    public static Map<String, HostTensor> of(TextModel model) {
        return of(model.adapted().method(), model.snapshot().values(), model.rankMasks());
    }

    /**
     * The graph-input values from trained tensors.
     *
     * @param method the method they were trained with
     * @param tensors the trained tensors by full name
     * @param masks AdaLoRA's kept-triplet masks by module
     */
    public static Map<String, HostTensor> of(AdapterMethod method, Map<String, HostTensor> tensors,
                                             Map<String, boolean[]> masks) {
        if (!(method instanceof LowRankConfig cfg)) {
            throw new IllegalArgumentException("full fine-tuning changes every weight; export it merged instead");
        }
        if (cfg instanceof DoraConfig) {
            throw new IllegalArgumentException("DoRA rescales each output row of the weight, which is not an additive "
                    + "low-rank input; export DoRA models merged");
        }
        if (cfg instanceof LoraConfig l && l.init() == LoraInit.PISSA) {
            throw new IllegalArgumentException("a PiSSA adapter works on a residual base, not the pretrained one; export "
                    + "it merged, or as a PEFT folder (converted to LoRA)");
        }
        if (cfg.bias() != BiasMode.NONE) {
            throw new IllegalArgumentException("trained biases (bias=" + cfg.bias() + ") change the base layers; export "
                    + "merged instead");
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (cfg instanceof AdaLoraConfig a && name.endsWith(".lora_A")) {
                String module = name.substring(0, name.length() - ".lora_A".length());
                adaLora(out, module, e.getValue(), tensors.get(module + ".lora_E"), tensors.get(module + ".lora_B"),
                        masks.get(module), a.alpha() / (a.initR() + 1e-5));
            } else if (cfg instanceof LoraConfig l && name.endsWith(".lora_A.weight")) {
                String module = name.substring(0, name.length() - ".lora_A.weight".length());
                out.put(module + ".lora_A", e.getValue().transpose2d());
                out.put(module + ".lora_B", scale(tensors.get(module + ".lora_B.weight"), l.scaling()).transpose2d());
            } else if (name.equals(TaskHead.MODULE_NAME + ".weight")) {
                out.put(name, e.getValue().transpose2d());
            } else if (name.equals(TaskHead.MODULE_NAME + ".bias")) {
                out.put(name, e.getValue());
            }
        }
        return out;
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

    private static HostTensor scale(HostTensor t, double s) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (d[i] * s);
        }
        return new HostTensor(t.shape(), d);
    }
}
