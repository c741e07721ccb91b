package org.tribuopeft.adapters.dora;

import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.BiasMode;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DoRA: LoRA's settings plus a trainable magnitude per output row (PEFT's {@code use_dora=True}).
 * Every LoRA option (rank, alpha, rsLoRA, init, targets) applies unchanged, and every {@code with*} method
 * returns a new {@code DoraConfig}.
 */
public class DoraConfig extends LoraConfig {

    /** PEFT's defaults. */
    public DoraConfig() { }

    /**
     * DoRA on the given modules.
     *
     * @param rank r
     * @param alpha the scaling numerator
     * @param dropout adapter-input dropout
     * @param targetModules module names (PEFT matching)
     */
    public DoraConfig(int rank, double alpha, double dropout, List<String> targetModules) {
        super(rank, alpha, dropout, targetModules);
    }

    @Override
    public DoraConfig withRslora(boolean on) {
        return (DoraConfig) super.withRslora(on);
    }

    @Override
    public DoraConfig withInit(LoraInit newInit) {
        return (DoraConfig) super.withInit(newInit);
    }

    @Override
    public DoraConfig withBias(BiasMode mode) {
        return (DoraConfig) super.withBias(mode);
    }

    @Override
    public DoraConfig withLayers(List<Integer> layers) {
        return (DoraConfig) super.withLayers(layers);
    }

    @Override
    public DoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
        return (DoraConfig) super.withPatterns(ranks, alphas);
    }

    @Override
    public DoraConfig withTargetRegex(String regex) {
        return (DoraConfig) super.withTargetRegex(regex);
    }


    @Override
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng) {
        InitialFactors f = initialFactors(base, moduleName, rng);
        return new DoraLinear(base, f.a(), f.b(), scaling(moduleName), dropout);
    }
}
