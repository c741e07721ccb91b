package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.LinearLayer;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;
import java.util.Optional;

/**
 * A low-rank adapter around one frozen Linear. The layer owns its math: the forward pass, and merging
 * its update into the frozen weight (for inference at the base model's cost) and taking it out again.
 */
public interface AdapterLayer extends LinearLayer {
    /**
     * The layer's kept-rank mask, for methods that prune rank while training (AdaLoRA), so a saved model
     * restores exactly the rank it was trained to; empty for other methods.
     */
    default Optional<boolean[]> rankMask() {
        return Optional.empty();
    }

    /**
     * Re-applies a mask from {@link #rankMask()}.
     *
     * @throws IllegalArgumentException when this layer has no rank mask or the length does not fit
     */
    default void restoreRankMask(boolean[] keep) {
        throw new IllegalArgumentException("a rank mask was given for a " + getClass().getSimpleName()
                + ", which has none");
    }

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

    /**
     * What this adapter adds to the frozen layer's output at inference, {@code y − base(x)}, for the rows
     * {@code x} given {@code base(x)} on the same rows (bias included): the per-adapter term of a mixed-adapter
     * batch, where the base output is computed once for every row and each adapter's term only over its own.
     * Layers override this to skip recomputing the base; this fallback is exact in value but recomputes it.
     *
     * @param ps where parameter values are read from
     * @param x [..., in] the adapter's rows
     * @param baseOutput [..., out] the frozen layer's output on {@code x}
     * @return [..., out] the update to add to {@code baseOutput}
     * @throws IllegalStateException when the adapter is merged (its update is already in the base weight)
     */
    default NDArray update(ParameterStore ps, NDArray x, NDArray baseOutput) {
        if (isMerged()) {
            throw new IllegalStateException("a merged adapter has no separate update; unmerge it to share the base");
        }
        return apply(ps, x, false).sub(baseOutput);
    }
}
