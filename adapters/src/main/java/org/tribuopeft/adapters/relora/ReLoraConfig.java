package org.tribuopeft.adapters.relora;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.LowRankConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ReLoRA (Lialin et al. 2023, "ReLoRA: High-Rank Training Through Low-Rank Updates"): LoRA whose update
 * is merged into the frozen weights every {@link #resetInterval()} steps, after which A is drawn afresh,
 * B zeroed, the adapter's optimizer moments pruned by magnitude and the learning rate re-warmed. The
 * sum of the merged updates can reach full rank at LoRA's memory cost per step; the result rewrites the
 * base weights, so it is saved as a whole model rather than as a PEFT adapter.
 */
public class ReLoraConfig extends LowRankConfig {

    @Config(description = "Rank r of each restart's update; must be positive and at most the layer's smaller "
            + "dimension.")
    protected int rank = 8;

    @Config(description = "Optimizer steps between resets (merge, fresh A, zero B); must be positive. A run shorter "
            + "than this is LoRA with a cosine schedule.")
    protected int resetInterval = 100;

    @Config(description = "Fraction of each adapter optimizer moment zeroed by magnitude at a reset, in [0, 1]: 0.99 "
            + "keeps the largest 1% (the paper's setting), 1 resets the moments, 0 keeps them.")
    protected double optimizerPruneRatio = 0.99;

    @Config(description = "Steps over which the learning rate climbs back from 0 after each reset; at least 0 and "
            + "below resetInterval.")
    protected int restartWarmupSteps = 10;

    /** The defaults: r 8, alpha 8, query and value, a reset every 100 steps. */
    public ReLoraConfig() { }

    /**
     * ReLoRA on the given modules.
     *
     * @param rank r
     * @param alpha the scaling numerator
     * @param dropout adapter-input dropout
     * @param targetModules module names (PEFT matching), e.g. {@code ["query", "value"]}
     * @param resetInterval steps between resets
     * @param optimizerPruneRatio fraction of each adapter moment zeroed at a reset
     * @param restartWarmupSteps steps of learning-rate re-warm-up after a reset
     */
    public ReLoraConfig(int rank, double alpha, double dropout, List<String> targetModules, int resetInterval,
                        double optimizerPruneRatio, int restartWarmupSteps) {
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.targetModules = new ArrayList<>(targetModules);
        this.resetInterval = resetInterval;
        this.optimizerPruneRatio = optimizerPruneRatio;
        this.restartWarmupSteps = restartWarmupSteps;
        postConfig();
    }

    @Override
    public void postConfig() {
        super.postConfig();
        if (rank <= 0) {
            throw new PropertyException("", "rank", "rank must be positive, found " + rank);
        }
        if (resetInterval <= 0) {
            throw new PropertyException("", "resetInterval", "resetInterval must be a positive number of steps, found "
                    + resetInterval);
        }
        if (!(optimizerPruneRatio >= 0 && optimizerPruneRatio <= 1)) {
            throw new PropertyException("", "optimizerPruneRatio", "optimizerPruneRatio must be in [0, 1] (0.99 keeps "
                    + "the largest 1%), found " + optimizerPruneRatio);
        }
        if (restartWarmupSteps < 0 || restartWarmupSteps >= resetInterval) {
            throw new PropertyException("", "restartWarmupSteps", "restartWarmupSteps must be at least 0 and below "
                    + "resetInterval (" + resetInterval + "), found " + restartWarmupSteps);
        }
    }

    /** The rank r. */
    public int rank() {
        return rank;
    }

    /** The factor on the adapter path, alpha/r. */
    public double scaling() {
        return alpha / rank;
    }

    /** Optimizer steps between resets. */
    public int resetInterval() {
        return resetInterval;
    }

    /** The fraction of each adapter moment tensor zeroed at a reset. */
    public double optimizerPruneRatio() {
        return optimizerPruneRatio;
    }

    /** Steps of learning-rate re-warm-up after each reset. */
    public int restartWarmupSteps() {
        return restartWarmupSteps;
    }

    @Override
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng) {
        int in = base.inFeatures();
        int out = base.outFeatures();
        if (rank > Math.min(in, out)) {
            throw new PropertyException("", "rank", "rank " + rank + " exceeds the smaller dimension of " + moduleName
                    + " (" + out + "×" + in + ")");
        }
        NDManager manager = base.manager();
        return new ReLoraLinear(base, LoraConfig.uniform(manager, rank, in, 1.0 / Math.sqrt(in), rng),
                manager.zeros(new Shape(out, rank)), scaling(), dropout);
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng) {
        AdaptedEncoder lora = super.apply(encoder, rng);
        Map<String, ReLoraLinear> layers = new LinkedHashMap<>();
        Map<String, Parameter> rewritten = new LinkedHashMap<>();
        lora.layers().forEach((module, layer) -> {
            layers.put(module, (ReLoraLinear) layer);
            rewritten.put(module + ".weight", layer.base().weight());
        });
        ReLoraResets resets = new ReLoraResets(layers, resetInterval, optimizerPruneRatio, restartWarmupSteps,
                rng.nextLong());
        return new AdaptedEncoder(lora.encoder(), this, lora.layers(), lora.trainableParameters(), resets, rewritten);
    }

    @Override
    public String toString() {
        return "relora(r=" + rank + ", alpha=" + alpha + ", dropout=" + dropout + ", targets="
                + (targetRegex.isEmpty() ? targetModules : targetRegex) + ", resetInterval=" + resetInterval
                + ", optimizerPruneRatio=" + optimizerPruneRatio + ", restartWarmupSteps=" + restartWarmupSteps + ")";
    }
}
