package org.tribuopeft.adapters.export;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskHead;
import org.tribuopeft.adapters.train.TextModel;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns a trained adapter into the graph-input values of {@link OnnxExporter}'s adapter form:
 * {@code <module>.lora_A} [in, r] and {@code <module>.lora_B} [r, out] as the method's descriptor computes
 * them (LoRA: Aᵀ and (s·B)ᵀ), and the head transposed. Only a method whose descriptor says
 * {@link MethodDescriptor.OnnxForm#ADAPTER_INPUTS} and that leaves the base unchanged fits; any other
 * (DoRA, PiSSA, trained biases, full fine-tuning) is refused by name with the reason.
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
     * @param masks kept-rank masks by module, for methods whose layers have them
     * @throws IllegalArgumentException naming the method when it has no adapter-input form
     */
    public static Map<String, HostTensor> of(AdapterMethod method, Map<String, HostTensor> tensors,
                                             Map<String, boolean[]> masks) {
        MethodDescriptor d = MethodRegistry.of(method);
        d.baseChange(method).ifPresent(why -> {
            throw new IllegalArgumentException(d.name() + " " + why + ", so its update is not an input over the "
                    + "pretrained graph; export it merged" + (d.peftForm().isPresent() ? ", or as a PEFT folder" : ""));
        });
        if (d.onnxForm(method) != MethodDescriptor.OnnxForm.ADAPTER_INPUTS) {
            throw new IllegalArgumentException(d.name() + ": " + d.mergedOnlyReason());
        }
        Map<String, HostTensor> out = new LinkedHashMap<>(d.onnxAdapterInputs(method, tensors, masks));
        HostTensor w = tensors.get(TaskHead.MODULE_NAME + ".weight");
        if (w != null) {
            out.put(TaskHead.MODULE_NAME + ".weight", w.transpose2d());
            out.put(TaskHead.MODULE_NAME + ".bias", tensors.get(TaskHead.MODULE_NAME + ".bias"));
        }
        return out;
    }
}
