package org.tribuopeft.adapters.method;

import ai.djl.nn.Parameter;
import org.tribuopeft.adapters.backbone.LinearLayer;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;

/**
 * A low-rank adapter around one frozen Linear. The layer owns its math: the forward pass, and merging
 * its update into the frozen weight (for inference at the base model's cost) and taking it out again.
 */
public interface AdapterLayer extends LinearLayer {
    /** The method this layer implements. */
    MethodKind kind();

    /**
     * The adapter's own parameters under PEFT's names relative to the wrapped module
     * ({@code lora_A.weight}, {@code lora_B.weight}, {@code lora_magnitude_vector}, {@code lora_E}, ...).
     */
    Map<String, Parameter> adapterParameters();

    /** The update this adapter adds to the frozen weight, ΔW [out, in] (for DoRA the merged weight minus W). */
    HostTensor deltaWeight();

    /** Folds the update into the frozen weight; the forward pass then skips the adapter path. */
    void merge();

    /** Takes the update out of the frozen weight again, restoring the pretrained values. */
    void unmerge();

    /** True between {@link #merge()} and {@link #unmerge()}. */
    boolean isMerged();

    /** The rank currently in use (for AdaLoRA, the number of unmasked triplets). */
    int effectiveRank();
}
