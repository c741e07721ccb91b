package org.tribuopeft.adapters.backbone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.quant.QuantizedWeight;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A pretrained Linear layer, {@code y = x·Wᵀ + b}, with W [out, in] as in PyTorch, stored either as a float32
 * parameter named {@code weight} or quantized ({@link QuantizedWeight}: codes and scales, dequantized inside the
 * forward pass). The bias, when present, is a float32 parameter named {@code bias} either way. Code that needs W
 * itself asks {@link #weightValue} (in the graph) or {@link #weightArray()}, never the storage.
 */
public final class DenseLinear extends NamedBlock implements LinearLayer {
    private static final NDIndex ALL = new NDIndex("...");

    private final Parameter weight;
    private final Parameter bias;
    private QuantizedWeight quantized;
    private final Deque<QuantizedWeight> replaced = new ArrayDeque<>();

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
        checkBias(bias, weight.getShape().get(0));
        this.weight = addParameter("weight", Parameter.Type.WEIGHT, weight);
        this.bias = bias == null ? null : addParameter("bias", Parameter.Type.BIAS, bias);
    }

    /**
     * Wraps a quantized weight; the bias stays float32.
     *
     * @param weight the quantized [out, in] weight
     * @param bias [out], or null for a Linear without bias
     */
    public DenseLinear(QuantizedWeight weight, NDArray bias) {
        checkBias(bias, weight.outFeatures());
        this.weight = null;
        this.quantized = weight;
        this.bias = bias == null ? null : addParameter("bias", Parameter.Type.BIAS, bias);
    }

    private static void checkBias(NDArray bias, long out) {
        if (bias != null && bias.getShape().get(0) != out) {
            throw new IllegalArgumentException("bias " + bias.getShape() + " does not match a weight with " + out
                    + " rows");
        }
    }

    /** Input width. */
    public int inFeatures() {
        return (int) (quantized != null ? quantized.inFeatures() : weight.getArray().getShape().get(1));
    }

    /** Output width. */
    public int outFeatures() {
        return (int) (quantized != null ? quantized.outFeatures() : weight.getArray().getShape().get(0));
    }

    /** The NDManager W lives on (new arrays for this layer, such as adapter factors, belong there too). */
    public ai.djl.ndarray.NDManager manager() {
        return quantized != null ? quantized.manager() : weight.getArray().getManager();
    }

    /** True when W is stored quantized. */
    public boolean isQuantized() {
        return quantized != null;
    }

    /** The quantized storage of W, empty for a float32 weight. */
    public Optional<QuantizedWeight> quantized() {
        return Optional.ofNullable(quantized);
    }

    /**
     * The float32 weight parameter, [out, in].
     *
     * @throws IllegalStateException when W is quantized: there is no float32 parameter to train or overwrite
     */
    public Parameter weight() {
        if (weight == null) {
            throw new IllegalStateException("this Linear's weight is stored quantized; read it with weightArray() "
                    + "and change it with updateWeight()");
        }
        return weight;
    }

    /** The bias parameter, [out], or null. */
    public Parameter bias() {
        return bias;
    }

    /**
     * W as float32 [out, in] for the forward pass: the parameter's value, or the quantized weight dequantized now
     * (a temporary in the current graph; no gradient reaches the codes).
     */
    public NDArray weightValue(ParameterStore ps, Device device, boolean training) {
        return quantized != null ? quantized.dequantize() : ps.getValue(weight, device, training);
    }

    /**
     * W as float32 [out, in] outside the forward pass: the live parameter array (do not modify it; use
     * {@link #updateWeight}), or a dequantized copy in the current {@link NDScope}.
     */
    public NDArray weightArray() {
        return quantized != null ? quantized.dequantize() : weight.getArray();
    }

    /** W copied to Java memory, [out, in] (dequantized when stored quantized). */
    public HostTensor hostWeight() {
        try (NDScope scope = new NDScope()) {
            return HostTensor.of(weightArray());
        }
    }

    /**
     * Replaces W by {@code change(W)}, computed in float32: in place for a float32 weight; for a quantized one the
     * result is quantized again the same way (merging into a quantized base, as PEFT does for bitsandbytes layers),
     * and the previous codes are kept so {@link #revertWeight()} restores them exactly.
     */
    public void updateWeight(UnaryOperator<NDArray> change) {
        try (NDScope scope = new NDScope()) {
            if (quantized == null) {
                NDArray w = weight.getArray();
                w.set(ALL, change.apply(w));
                return;
            }
            HostTensor changed = HostTensor.of(change.apply(quantized.dequantize()));
            replaced.push(quantized);
            quantized = quantized.quantizer().quantize(changed, quantized.manager());
        }
    }

    /** True when a quantized weight has an earlier version {@link #revertWeight()} can restore. */
    public boolean canRevertWeight() {
        return !replaced.isEmpty();
    }

    /**
     * Restores the quantized codes in place before the last {@link #updateWeight}, exactly.
     *
     * @throws IllegalStateException when there is nothing to restore
     */
    public void revertWeight() {
        if (replaced.isEmpty()) {
            throw new IllegalStateException("no earlier quantized weight to restore");
        }
        quantized.close();
        quantized = replaced.pop();
    }

    @Override
    public DenseLinear base() {
        return this;
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray w = weightValue(ps, x.getDevice(), training);
        // one fused addmm (DJL's Linear.linear is a matmul plus a separate bias add), in the thread's precision
        NDArray out = ComputePrecision.current().linear(x, w,
                bias == null ? null : ps.getValue(bias, x.getDevice(), training));
        if (quantized != null) {
            w.close(); // the dequantized copy; autograd keeps it if backward needs it
        }
        return out;
    }

    /**
     * This layer's output plus {@code scale·B·A·dropout(x)} (a low-rank term over the same input), computed as one
     * fused operator in the thread's precision: what an additive low-rank adapter adds to its frozen base, without
     * separate passes to scale and sum the term.
     *
     * @param a [r, in]
     * @param b [out, r]
     * @param dropout rate of the dropout on the low-rank input while {@code training}
     */
    public NDArray applyPlusLowRank(ParameterStore ps, NDArray x, NDArray a, NDArray b, double scale, double dropout,
                                    boolean training) {
        NDArray w = weightValue(ps, x.getDevice(), training);
        NDArray out = ComputePrecision.current().linearLowRank(x, w,
                bias == null ? null : ps.getValue(bias, x.getDevice(), training), a, b, scale, dropout, training);
        if (quantized != null) {
            w.close();
        }
        return out;
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
