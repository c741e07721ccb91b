package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.NamedBlock;
import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * What the additive low-rank layers share: the wrapped frozen Linear (child {@code base_layer}, as in
 * PEFT), merging by adding the update ΔW to the frozen weight and unmerging by subtracting it, and
 * the merged state. Subclasses give ΔW and their forward pass.
 */
public abstract class LowRankLinear extends NamedBlock implements AdapterLayer {
    private final DenseLinear base;
    private boolean merged;

    /**
     * Wraps a frozen layer.
     *
     * @param base the pretrained Linear
     */
    protected LowRankLinear(DenseLinear base) {
        this.base = addModule("base_layer", base);
    }

    @Override
    public DenseLinear base() {
        return base;
    }

    /** ΔW on the engine, [out, in], in the caller's {@link NDScope}. */
    protected abstract NDArray delta();

    @Override
    public HostTensor deltaWeight() {
        try (NDScope scope = new NDScope()) {
            return HostTensor.of(delta());
        }
    }

    @Override
    public void merge() {
        if (merged) {
            throw new IllegalStateException("already merged");
        }
        // a quantized base is merged in float32 and quantized again, as PEFT merges into bitsandbytes layers
        base.updateWeight(w -> w.add(delta()));
        merged = true;
    }

    @Override
    public void unmerge() {
        if (!merged) {
            throw new IllegalStateException("not merged");
        }
        if (base.isQuantized()) {
            // the codes from before the merge, exactly (re-quantizing W - ΔW would not give them back)
            base.revertWeight();
        } else {
            try (NDScope scope = new NDScope()) {
                base.weight().getArray().subi(delta());
            }
        }
        merged = false;
    }

    @Override
    public boolean isMerged() {
        return merged;
    }

    /** Records the merged state for subclasses that merge differently. */
    protected void setMerged(boolean merged) {
        this.merged = merged;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return base.getOutputShapes(inputShapes);
    }
}
