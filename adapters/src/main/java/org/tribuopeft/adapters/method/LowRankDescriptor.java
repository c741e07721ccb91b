package org.tribuopeft.adapters.method;

import java.util.Optional;

/**
 * What the descriptors of the {@link LowRankConfig} methods share: trained biases change the base, and
 * an additive update over an unchanged base exports to ONNX as adapter inputs.
 */
public abstract class LowRankDescriptor implements MethodDescriptor {
    /** For subclasses. */
    protected LowRankDescriptor() { }

    @Override
    public Optional<String> baseChange(AdapterMethod method) {
        LowRankConfig lr = (LowRankConfig) method;
        if (lr.bias() != BiasMode.NONE) {
            return Optional.of("changes base weights (it trains the base biases, bias=" + lr.bias() + ")");
        }
        return Optional.empty();
    }

    @Override
    public OnnxForm onnxForm(AdapterMethod method) {
        return baseChange(method).isPresent() ? OnnxForm.MERGED_ONLY : OnnxForm.ADAPTER_INPUTS;
    }
}
