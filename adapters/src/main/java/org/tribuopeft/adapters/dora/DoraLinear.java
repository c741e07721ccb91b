package org.tribuopeft.adapters.dora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.lora.LoraLinear;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;

/**
 * DoRA around a frozen Linear (PEFT's {@code DoraLinearLayer}): the adapted weight is
 * {@code m · (W + s·B·A) / ‖W + s·B·A‖} with one magnitude per output row, so
 * {@code y = W·x + b + (m/‖·‖ − 1)·(W·x') + (m/‖·‖)·s·B·(A·x')} where x' is the dropped-out input.
 * The row norm is detached from the graph while training, as in the paper. Merging caches the norm
 * so unmerging can invert it.
 */
public final class DoraLinear extends LoraLinear {

    private final Parameter magnitude;
    private NDArray cachedNorm;

    /**
     * Wraps a frozen layer; the magnitude starts at the row norms of {@code W + s·B·A}.
     *
     * @param base the pretrained Linear
     * @param a initial A, [r, in]
     * @param b initial B, [out, r]
     * @param scaling s
     * @param dropout adapter-input dropout while training
     */
    public DoraLinear(DenseLinear base, NDArray a, NDArray b, double scaling, double dropout) {
        super(base, a, b, scaling, dropout);
        NDArray m;
        try (NDScope scope = new NDScope()) {
            m = rowNorm(base.weightArray().add(delta()));
            NDScope.unregister(m);
        }
        this.magnitude = addParameter("lora_magnitude_vector", Parameter.Type.WEIGHT, m);
    }


    /** The magnitude parameter, [out]. */
    public Parameter magnitude() {
        return magnitude;
    }

    private static NDArray rowNorm(NDArray w) {
        return w.square().sum(new int[] {1}).sqrt();
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        DenseLinear base = base();
        NDArray result = base.apply(ps, x, training);
        if (isMerged()) {
            return result;
        }
        var device = x.getDevice();
        NDArray w = base.weightValue(ps, device, training);
        NDArray a = ps.getValue(loraA(), device, training);
        NDArray b = ps.getValue(loraB(), device, training);
        NDArray m = ps.getValue(magnitude, device, training);
        // ‖W + s·B·A‖ per output row, detached: gradients reach m through m/‖·‖ only
        NDArray norm = rowNorm(w.add(Scalars.mul(b.matMul(a).stopGradient(), (float) scaling()))).stopGradient();
        NDArray scale = m.div(norm);
        NDArray xd = dropped(x, training);
        NDArray baseResult = xd == x
                ? (base.bias() == null ? result : result.sub(ps.getValue(base.bias(), device, training)))
                : ComputePrecision.current().linear(xd, w, null);
        // intermediates are closed as soon as they are used; autograd keeps whatever backward needs
        NDArray path = loraPath(ps, xd, training);
        NDArray lora = Scalars.mul(path, (float) scaling());
        path.close();
        NDArray baseTerm = baseResult.mul(Scalars.sub(scale, 1f));
        if (baseResult != result) {
            baseResult.close();
        }
        if (xd != x) {
            xd.close();
        }
        NDArray loraTerm = lora.mul(scale);
        lora.close();
        NDArray partial = result.add(baseTerm);
        result.close();
        baseTerm.close();
        NDArray out = partial.add(loraTerm);
        partial.close();
        loraTerm.close();
        return out;
    }

    /**
     * DoRA's inference update on rows whose frozen output (bias included) is given:
     * {@code (m/‖·‖ − 1)·(W·x) + (m/‖·‖)·s·B·(A·x)}, the same terms {@link #apply} adds.
     */
    @Override
    public NDArray update(ParameterStore ps, NDArray x, NDArray baseOutput) {
        requireUnmerged();
        DenseLinear base = base();
        var device = x.getDevice();
        NDArray w = base.weightValue(ps, device, false);
        NDArray a = ps.getValue(loraA(), device, false);
        NDArray b = ps.getValue(loraB(), device, false);
        NDArray norm = rowNorm(w.add(Scalars.mul(b.matMul(a), (float) scaling())));
        NDArray scale = ps.getValue(magnitude, device, false).div(norm);
        NDArray baseResult = base.bias() == null ? baseOutput : baseOutput.sub(ps.getValue(base.bias(), device, false));
        NDArray lora = Scalars.mul(loraPath(ps, x, false), (float) scaling());
        return baseResult.mul(Scalars.sub(scale, 1f)).add(lora.mul(scale));
    }

    @Override
    public Map<String, Parameter> adapterParameters() {
        Map<String, Parameter> m = super.adapterParameters();
        m.put("lora_magnitude_vector", magnitude);
        return m;
    }

    @Override
    public HostTensor deltaWeight() {
        try (NDScope scope = new NDScope()) {
            NDArray w = base().weightArray();
            NDArray d = delta();
            NDArray merged = isMerged() ? w : mergedWeight(w, d, rowNorm(w.add(d)));
            NDArray original = isMerged() ? unmergedWeight(w, d) : w;
            return HostTensor.of(merged.sub(original));
        }
    }

    private NDArray mergedWeight(NDArray w, NDArray d, NDArray norm) {
        return w.add(d).mul(magnitude.getArray().div(norm).expandDims(1));
    }

    private NDArray unmergedWeight(NDArray merged, NDArray d) {
        return merged.div(magnitude.getArray().div(cachedNorm).expandDims(1)).sub(d);
    }

    @Override
    public void merge() {
        if (isMerged()) {
            throw new IllegalStateException("already merged");
        }
        try (NDScope scope = new NDScope()) {
            NDArray w = base().weightArray();
            NDArray d = delta();
            cachedNorm = rowNorm(w.add(d));
            NDScope.unregister(cachedNorm);
        }
        // in float32, then quantized again when the base is quantized
        base().updateWeight(w -> mergedWeight(w, delta(), cachedNorm));
        setMerged(true);
    }

    @Override
    public void unmerge() {
        if (!isMerged()) {
            throw new IllegalStateException("not merged");
        }
        if (base().isQuantized()) {
            base().revertWeight();
        } else {
            base().updateWeight(w -> unmergedWeight(w, delta()));
        }
        cachedNorm.close();
        cachedNorm = null;
        setMerged(false);
    }
}
