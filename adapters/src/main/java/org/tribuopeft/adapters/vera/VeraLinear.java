package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.engine.TrainingDropout;
import org.tribuopeft.adapters.method.LowRankLinear;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * VeRA around a frozen Linear, as PEFT's {@code vera.Linear}: {@code y = W·x + b + λ_b ⊙ (B_s·(λ_d ⊙ (A_s·dropout(x))))}
 * where A_s = {@code vera_A[:, :in]} and B_s = {@code vera_B[:out, :]} are slices of the projections every
 * VeRA layer shares (frozen, random), and only the vectors λ_d [r] and λ_b [out] train. Merging adds
 * {@code (λ_b·B_s)(λ_d·A_s)} to W; unmerging subtracts it.
 */
public final class VeraLinear extends LowRankLinear {
    private final Parameter lambdaB;
    private final Parameter lambdaD;
    private final Parameter veraA;
    private final Parameter veraB;
    private final double dropout;

    /**
     * Wraps a frozen layer.
     *
     * @param base the pretrained Linear (stays frozen)
     * @param veraA the shared projection A [r, max in] (frozen; not owned by this layer)
     * @param veraB the shared projection B [max out, r] (frozen; not owned by this layer)
     * @param lambdaD initial λ_d [r]
     * @param lambdaB initial λ_b [out]
     * @param dropout dropout probability on the adapter input while training
     */
    public VeraLinear(DenseLinear base, Parameter veraA, Parameter veraB, NDArray lambdaD, NDArray lambdaB,
                      double dropout) {
        super(base);
        long r = veraA.getArray().getShape().get(0);
        if (veraA.getArray().getShape().get(1) < base.inFeatures() || veraB.getArray().getShape().get(0) < base.outFeatures()
                || veraB.getArray().getShape().get(1) != r || lambdaD.getShape().get(0) != r
                || lambdaB.getShape().get(0) != base.outFeatures()) {
            throw new IllegalArgumentException("VeRA projections A " + veraA.getArray().getShape() + ", B "
                    + veraB.getArray().getShape() + " and vectors λ_d " + lambdaD.getShape() + ", λ_b " + lambdaB.getShape()
                    + " do not fit a " + base.inFeatures() + "→" + base.outFeatures() + " layer");
        }
        this.veraA = veraA;
        this.veraB = veraB;
        this.lambdaB = addParameter("vera_lambda_b", Parameter.Type.WEIGHT, lambdaB);
        this.lambdaD = addParameter("vera_lambda_d", Parameter.Type.WEIGHT, lambdaD);
        this.dropout = dropout;
    }

    /** The rank r (rows of the shared A). */
    public int rank() {
        return (int) veraA.getArray().getShape().get(0);
    }

    private NDArray slicedA(NDArray a) {
        return a.get(new NDIndex(":, 0:" + base().inFeatures()));
    }

    private NDArray slicedB(NDArray b) {
        return b.get(new NDIndex("0:" + base().outFeatures() + ", :"));
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray result = base().apply(ps, x, training);
        if (isMerged()) {
            return result;
        }
        NDArray a = slicedA(ps.getValue(veraA, x.getDevice(), training));
        NDArray b = slicedB(ps.getValue(veraB, x.getDevice(), training));
        NDArray d = ps.getValue(lambdaD, x.getDevice(), training);
        NDArray lb = ps.getValue(lambdaB, x.getDevice(), training);
        NDArray in = TrainingDropout.apply(x, dropout, training);
        NDArray hidden = Linear.linear(in, a).singletonOrThrow().mul(d);
        return result.add(Linear.linear(hidden, b).singletonOrThrow().mul(lb));
    }

    @Override
    public NDArray update(ParameterStore ps, NDArray x, NDArray baseOutput) {
        if (isMerged()) {
            throw new IllegalStateException("a merged adapter has no separate update; unmerge it to share the base");
        }
        NDArray a = slicedA(ps.getValue(veraA, x.getDevice(), false));
        NDArray b = slicedB(ps.getValue(veraB, x.getDevice(), false));
        NDArray hidden = Linear.linear(x, a).singletonOrThrow().mul(ps.getValue(lambdaD, x.getDevice(), false));
        return Linear.linear(hidden, b).singletonOrThrow().mul(ps.getValue(lambdaB, x.getDevice(), false));
    }

    @Override
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("vera_lambda_b", lambdaB);
        m.put("vera_lambda_d", lambdaD);
        return m;
    }

    /** {@code (λ_b·B_s)(λ_d·A_s)} on the engine, [out, in]. */
    @Override
    protected NDArray delta() {
        NDArray b = slicedB(veraB.getArray()).mul(lambdaB.getArray().expandDims(1));
        NDArray a = slicedA(veraA.getArray()).mul(lambdaD.getArray().expandDims(1));
        return b.matMul(a);
    }

    @Override
    public int effectiveRank() {
        return rank();
    }
}
