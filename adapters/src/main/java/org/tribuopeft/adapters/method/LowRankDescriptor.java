package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import java.util.Optional;

/**
 * What the descriptors of the {@link LowRankConfig} methods share: trained biases change the base, and
 * an additive update over an unchanged base exports to ONNX as adapter inputs.
 */
public abstract class LowRankDescriptor extends NamedDescriptor {
    /**
     * The registration of one low-rank method.
     *
     * @param name the configuration name
     * @param summary one sentence for help texts
     * @param configClass the configuration component class
     * @param peftForm its PEFT folder form, or null for a method PEFT has no adapter form for
     */
    protected LowRankDescriptor(String name, String summary, Class<? extends AdapterMethod> configClass,
                                PeftForm peftForm) {
        super(name, summary, configClass, peftForm);
    }

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
