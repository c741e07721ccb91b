package org.tribuopeft.adapters.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.method.LowRankLinear;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * AdaLoRA's SVD-form adapter around a frozen Linear (PEFT's {@code SVDLinear}): P = {@code lora_A}
 * [r, in], Λ = {@code lora_E} [r, 1], Q = {@code lora_B} [out, r], and
 * {@code y = W·x + b + dropout(x)·(P∘Λ)ᵀ·Qᵀ · scaling/(ranknum + 1e-5)} with scaling = alpha and
 * ranknum = the initial rank. The rank allocator prunes triplets by zeroing Λ entries; the mask of
 * kept triplets is held here and is what "rank" means for this layer.
 */
public final class AdaLoraLinear extends LowRankLinear {
    private final Parameter loraA;
    private final Parameter loraE;
    private final Parameter loraB;
    private final double scaling;
    private final double rankNum;
    private final double dropout;
    private final boolean[] kept;

    /**
     * Wraps a frozen layer.
     *
     * @param base the pretrained Linear
     * @param a P, [r, in]
     * @param e Λ, [r, 1]
     * @param b Q, [out, r]
     * @param scaling alpha
     * @param dropout adapter-input dropout while training
     */
    public AdaLoraLinear(DenseLinear base, NDArray a, NDArray e, NDArray b, double scaling, double dropout) {
        super(checkShapes(base, a, e, b));
        int r = (int) a.getShape().get(0);
        this.loraA = addParameter("lora_A", Parameter.Type.WEIGHT, a);
        this.loraE = addParameter("lora_E", Parameter.Type.WEIGHT, e);
        this.loraB = addParameter("lora_B", Parameter.Type.WEIGHT, b);
        this.scaling = scaling;
        this.rankNum = r;
        this.dropout = dropout;
        this.kept = new boolean[r];
        Arrays.fill(kept, true);
    }

    private static DenseLinear checkShapes(DenseLinear base, NDArray a, NDArray e, NDArray b) {
        long r = a.getShape().get(0);
        if (a.getShape().get(1) != base.inFeatures() || b.getShape().get(0) != base.outFeatures()
                || b.getShape().get(1) != r || e.getShape().get(0) != r) {
            throw new IllegalArgumentException("AdaLoRA factors A " + a.getShape() + ", E " + e.getShape() + ", B "
                    + b.getShape() + " do not fit a " + base.inFeatures() + "→" + base.outFeatures() + " layer");
        }
        return base;
    }


    /** P, [r, in]. */
    public Parameter loraA() {
        return loraA;
    }

    /** Λ, [r, 1]. */
    public Parameter loraE() {
        return loraE;
    }

    /** Q, [out, r]. */
    public Parameter loraB() {
        return loraB;
    }

    /** The initial rank r (PEFT's ranknum). */
    public int initialRank() {
        return (int) rankNum;
    }

    /** The factor {@code scaling/(ranknum + 1e-5)} on the adapter path. */
    public double pathScale() {
        return scaling / (rankNum + 1e-5);
    }

    @Override
    public Optional<boolean[]> rankMask() {
        return Optional.of(keptTriplets());
    }

    @Override
    public void restoreRankMask(boolean[] keep) {
        applyMask(keep);
    }

    /** Which triplets are kept (a copy). */
    public boolean[] keptTriplets() {
        return kept.clone();
    }

    /** Sets the kept triplets and zeroes Λ where a triplet is pruned. */
    public void applyMask(boolean[] keep) {
        if (keep.length != kept.length) {
            throw new IllegalArgumentException("mask has " + keep.length + " entries for rank " + kept.length);
        }
        System.arraycopy(keep, 0, kept, 0, keep.length);
        reapplyMask();
    }

    /** Zeroes Λ at the pruned triplets again (they still receive gradients between masks). */
    public void reapplyMask() {
        boolean[] m = kept.clone();
        try (NDScope scope = new NDScope()) {
            NDArray e = loraE.getArray();
            NDArray keep = e.getManager().create(m, new Shape(m.length, 1));
            // a true zero (as PEFT's masked_fill_), not the -0.0 that multiplying a negative by 0 gives
            e.set(new ai.djl.ndarray.index.NDIndex("..."), ai.djl.ndarray.NDArrays.where(keep, e, e.zerosLike()));
        }
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        if (isMerged()) {
            return base().apply(ps, x, training);
        }
        var device = x.getDevice();
        // (A ⊙ E) is [r, in], small; the product with the input and B is fused into the base's output
        NDArray ae = ps.getValue(loraA, device, training).mul(ps.getValue(loraE, device, training));
        NDArray out = base().applyPlusLowRank(ps, x, ae, ps.getValue(loraB, device, training), pathScale(), dropout,
                training);
        ae.close();
        return out;
    }

    @Override
    public NDArray update(ParameterStore ps, NDArray x, NDArray baseOutput) {
        if (isMerged()) {
            throw new IllegalStateException("a merged adapter has no separate update; unmerge it to share the base");
        }
        var device = x.getDevice();
        NDArray ae = ps.getValue(loraA, device, false).mul(ps.getValue(loraE, device, false));
        NDArray path = Linear.linear(Linear.linear(x, ae).singletonOrThrow(), ps.getValue(loraB, device, false))
                .singletonOrThrow();
        return Scalars.mul(path, (float) pathScale());
    }

    @Override
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("lora_A", loraA);
        m.put("lora_E", loraE);
        m.put("lora_B", loraB);
        return m;
    }

    @Override
    protected NDArray delta() {
        return Scalars.mul(loraB.getArray().matMul(loraA.getArray().mul(loraE.getArray())), (float) pathScale());
    }

    @Override
    public int effectiveRank() {
        int n = 0;
        for (boolean k : kept) {
            n += k ? 1 : 0;
        }
        return n;
    }
}
