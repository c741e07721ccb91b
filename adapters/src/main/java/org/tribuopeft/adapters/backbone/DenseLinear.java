package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A pretrained Linear layer, {@code y = x·Wᵀ + b}, with W stored [out, in] as in PyTorch. Its
 * parameters are named {@code weight} and {@code bias}.
 */
public final class DenseLinear extends NamedBlock implements LinearLayer {
    private final Parameter weight;
    private final Parameter bias;

    /**
     * Wraps existing arrays.
     *
     * @param weight [out, in]
     * @param bias [out], or null for a Linear without bias
     */
    public DenseLinear(NDArray weight, NDArray bias) {
        if (weight.getShape().dimension() != 2) {
            throw new IllegalArgumentException("Linear weight must be [out, in], got " + weight.getShape());
        }
        if (bias != null && bias.getShape().get(0) != weight.getShape().get(0)) {
            throw new IllegalArgumentException("bias " + bias.getShape() + " does not match weight "
                    + weight.getShape());
        }
        this.weight = addParameter("weight", Parameter.Type.WEIGHT, weight);
        this.bias = bias == null ? null : addParameter("bias", Parameter.Type.BIAS, bias);
    }

    /** Input width. */
    public int inFeatures() {
        return (int) weight.getArray().getShape().get(1);
    }

    /** Output width. */
    public int outFeatures() {
        return (int) weight.getArray().getShape().get(0);
    }

    /** The weight parameter, [out, in]. */
    public Parameter weight() {
        return weight;
    }

    /** The bias parameter, [out], or null. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public DenseLinear base() {
        return this;
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray w = ps.getValue(weight, x.getDevice(), training);
        if (bias == null) {
            return Linear.linear(x, w).singletonOrThrow();
        }
        return Linear.linear(x, w, ps.getValue(bias, x.getDevice(), training)).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(outFeatures())};
    }
}
