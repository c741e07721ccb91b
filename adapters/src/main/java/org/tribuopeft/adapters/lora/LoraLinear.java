package org.tribuopeft.adapters.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.NamedBlock;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.MethodKind;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoRA around a frozen Linear: {@code y = W·x + b + scaling · B·(A·dropout(x))} with A [r, in] and
 * B [out, r], as PEFT's {@code lora.Linear}. Merging adds {@code scaling·B·A} to W; unmerging subtracts it.
 */
public class LoraLinear extends NamedBlock implements AdapterLayer {
    private final DenseLinear base;
    private final Parameter loraA;
    private final Parameter loraB;
    private final double scaling;
    private final double dropout;
    private boolean merged;

    /**
     * Wraps a frozen layer.
     *
     * @param base the pretrained Linear (stays frozen)
     * @param a initial A, [r, in]
     * @param b initial B, [out, r]
     * @param scaling the factor on the adapter path (alpha/r, or alpha/√r for rsLoRA)
     * @param dropout dropout probability on the adapter input while training
     */
    public LoraLinear(DenseLinear base, NDArray a, NDArray b, double scaling, double dropout) {
        long r = a.getShape().get(0);
        if (a.getShape().get(1) != base.inFeatures() || b.getShape().get(0) != base.outFeatures()
                || b.getShape().get(1) != r) {
            throw new IllegalArgumentException("LoRA factors A " + a.getShape() + " and B " + b.getShape()
                    + " do not fit a " + base.inFeatures() + "→" + base.outFeatures() + " layer");
        }
        this.base = addModule("base_layer", base);
        this.loraA = addParameter("lora_A.weight", Parameter.Type.WEIGHT, a);
        this.loraB = addParameter("lora_B.weight", Parameter.Type.WEIGHT, b);
        this.scaling = scaling;
        this.dropout = dropout;
    }

    @Override
    public MethodKind kind() {
        return MethodKind.LORA;
    }

    @Override
    public DenseLinear base() {
        return base;
    }

    /** The rank r. */
    public int rank() {
        return (int) loraA.getArray().getShape().get(0);
    }

    /** The factor on the adapter path. */
    public double scaling() {
        return scaling;
    }

    /** The A parameter, [r, in]. */
    public Parameter loraA() {
        return loraA;
    }

    /** The B parameter, [out, r]. */
    public Parameter loraB() {
        return loraB;
    }

    /** Dropout probability on the adapter input. */
    protected double dropoutRate() {
        return dropout;
    }

    /** Applies adapter-input dropout when training. */
    protected NDArray dropped(NDArray x, boolean training) {
        return training && dropout > 0 ? Dropout.dropout(x, (float) dropout, true).singletonOrThrow() : x;
    }

    /** {@code B·(A·x)}, without scaling. */
    protected NDArray loraPath(ParameterStore ps, NDArray x, boolean training) {
        NDArray a = ps.getValue(loraA, x.getDevice(), training);
        NDArray b = ps.getValue(loraB, x.getDevice(), training);
        return Linear.linear(Linear.linear(x, a).singletonOrThrow(), b).singletonOrThrow();
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray result = base.apply(ps, x, training);
        if (merged) {
            return result;
        }
        return result.add(loraPath(ps, dropped(x, training), training).mul((float) scaling));
    }

    @Override
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        return m;
    }

    /** {@code scaling · B · A} on the engine, [out, in]. */
    protected NDArray delta() {
        return loraB.getArray().matMul(loraA.getArray()).mul((float) scaling);
    }

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
        try (NDScope scope = new NDScope()) {
            base.weight().getArray().addi(delta());
        }
        merged = true;
    }

    @Override
    public void unmerge() {
        if (!merged) {
            throw new IllegalStateException("not merged");
        }
        try (NDScope scope = new NDScope()) {
            base.weight().getArray().subi(delta());
        }
        merged = false;
    }

    @Override
    public boolean isMerged() {
        return merged;
    }

    /** Marks the layer merged or not without touching weights (used by subclasses with their own merge). */
    protected void setMerged(boolean merged) {
        this.merged = merged;
    }

    @Override
    public int effectiveRank() {
        return rank();
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
