package org.tribuopeft.adapters.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.engine.TorchScriptOps;
import org.tribuopeft.adapters.engine.TrainingDropout;
import org.tribuopeft.adapters.method.LowRankLinear;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoRA around a frozen Linear: {@code y = W·x + b + scaling · B·(A·dropout(x))} with A [r, in] and
 * B [out, r], as PEFT's {@code lora.Linear}. Merging adds {@code scaling·B·A} to W; unmerging subtracts it.
 */
public class LoraLinear extends LowRankLinear {
    private final Parameter loraA;
    private final Parameter loraB;
    private final double scaling;
    private final double dropout;

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
        super(checkShapes(base, a, b));
        this.loraA = addParameter("lora_A.weight", Parameter.Type.WEIGHT, a);
        this.loraB = addParameter("lora_B.weight", Parameter.Type.WEIGHT, b);
        this.scaling = scaling;
        this.dropout = dropout;
    }

    private static DenseLinear checkShapes(DenseLinear base, NDArray a, NDArray b) {
        long r = a.getShape().get(0);
        if (a.getShape().get(1) != base.inFeatures() || b.getShape().get(0) != base.outFeatures()
                || b.getShape().get(1) != r) {
            throw new IllegalArgumentException("LoRA factors A " + a.getShape() + " and B " + b.getShape()
                    + " do not fit a " + base.inFeatures() + "→" + base.outFeatures() + " layer");
        }
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

    /** Applies adapter-input dropout when training. */
    protected NDArray dropped(NDArray x, boolean training) {
        return TrainingDropout.apply(x, dropout, training);
    }

    /** {@code B·(A·x)}, without scaling. */
    protected NDArray loraPath(ParameterStore ps, NDArray x, boolean training) {
        NDArray a = ps.getValue(loraA, x.getDevice(), training);
        NDArray b = ps.getValue(loraB, x.getDevice(), training);
        return TorchScriptOps.get().lowRank(x, a, b);
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        if (isMerged()) {
            return base().apply(ps, x, training);
        }
        return base().applyPlusLowRank(ps, x, ps.getValue(loraA, x.getDevice(), training),
                ps.getValue(loraB, x.getDevice(), training), scaling, dropout, training);
    }

    @Override
    public NDArray update(ParameterStore ps, NDArray x, NDArray baseOutput) {
        requireUnmerged();
        // inference only (no graph is recorded), so scaling in place is safe and saves one output-sized array
        return loraPath(ps, x, false).muli((float) scaling);
    }

    /** Refuses an inference update while merged (the update is already inside the base weight). */
    protected void requireUnmerged() {
        if (isMerged()) {
            throw new IllegalStateException("a merged adapter has no separate update; unmerge it to share the base");
        }
    }

    @Override
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A.weight", loraA);
        m.put("lora_B.weight", loraB);
        return m;
    }

    /** {@code scaling · B · A} on the engine, [out, in]. */
    @Override
    protected NDArray delta() {
        return Scalars.mul(loraB.getArray().matMul(loraA.getArray()), (float) scaling);
    }

    @Override
    public int effectiveRank() {
        return rank();
    }
}
