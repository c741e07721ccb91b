package org.tribuopeft.adapters.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.ModulePattern;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LoRA: a rank-r update {@code scaling·B·A} beside each target Linear, with PEFT's defaults (r 8,
 * alpha 8, no dropout, query and value, kaiming A and zero B). Switch {@link #useRslora} for
 * rank-stabilised scaling alpha/√r.
 */
public class LoraConfig extends LowRankConfig {

    @Config(description = "Rank r of the update; must be positive and at most the layer's smaller dimension.")
    protected int rank = 8;

    @Config(description = "Use rank-stabilised LoRA scaling alpha/sqrt(r) instead of alpha/r.")
    protected boolean useRslora = false;

    @Config(description = "Initialisation of A and B: KAIMING (PEFT default), GAUSSIAN or PISSA.")
    protected LoraInit init = LoraInit.KAIMING;

    @Config(description = "Per-module ranks that override rank (PEFT rank_pattern). Each key is a regular expression "
            + "selecting the modules whose full name is the key or ends with '.' + key, e.g. query or "
            + "layer.0.attention.self.query. A key that selects no adapted module, or two keys that give one module "
            + "different ranks, are errors.")
    protected Map<String, Integer> rankPattern = new HashMap<>();

    @Config(description = "Per-module alphas that override alpha (PEFT alpha_pattern), keys as for rankPattern.")
    protected Map<String, Double> alphaPattern = new HashMap<>();

    /** PEFT's defaults. */
    public LoraConfig() { }

    /**
     * LoRA on the given modules.
     *
     * @param rank r
     * @param alpha the scaling numerator
     * @param dropout adapter-input dropout
     * @param targetModules module names (PEFT matching), e.g. {@code ["query", "value"]}
     */
    public LoraConfig(int rank, double alpha, double dropout, List<String> targetModules) {
        this.rank = rank;
        this.alpha = alpha;
        this.dropout = dropout;
        this.targetModules = new ArrayList<>(targetModules);
        postConfig();
    }

    @Override
    @SuppressWarnings("unchecked")
    protected <C extends LowRankConfig> C copy() {
        LoraConfig c = super.copy();
        c.rankPattern = new HashMap<>(rankPattern);
        c.alphaPattern = new HashMap<>(alphaPattern);
        return (C) c;
    }

    /** A new config equal to this one but with rsLoRA scaling (alpha/√r) switched on or off; this one is unchanged. */
    public LoraConfig withRslora(boolean on) {
        LoraConfig c = copy();
        c.useRslora = on;
        c.postConfig();
        return c;
    }

    /** A new config equal to this one but with another initialisation; this one is unchanged. */
    public LoraConfig withInit(LoraInit newInit) {
        LoraConfig c = copy();
        c.init = newInit;
        c.postConfig();
        return c;
    }

    /** A new config equal to this one but with another bias mode; this one is unchanged. */
    public LoraConfig withBias(BiasMode mode) {
        LoraConfig c = copy();
        c.bias = mode;
        c.postConfig();
        return c;
    }

    /** A new config equal to this one but adapting only the given layers (0-based); this one is unchanged. */
    public LoraConfig withLayers(List<Integer> layers) {
        LoraConfig c = copy();
        c.layersToTransform = new ArrayList<>(layers);
        c.postConfig();
        return c;
    }

    /**
     * A new config equal to this one but with per-module ranks and alphas (PEFT's rank_pattern and alpha_pattern);
     * this one is unchanged.
     *
     * @param ranks key → rank, keys as described on {@link ModulePattern}
     * @param alphas key → alpha
     */
    public LoraConfig withPatterns(Map<String, Integer> ranks, Map<String, Double> alphas) {
        LoraConfig c = copy();
        c.rankPattern = new HashMap<>(ranks);
        c.alphaPattern = new HashMap<>(alphas);
        c.postConfig();
        return c;
    }

    /**
     * A new config equal to this one but selecting modules by a regular expression over full module names; this one
     * is unchanged.
     */
    public LoraConfig withTargetRegex(String regex) {
        LoraConfig c = copy();
        c.targetRegex = regex;
        c.postConfig();
        return c;
    }

    @Override
    public void postConfig() {
        super.postConfig();
        if (rank <= 0) {
            throw new PropertyException("", "rank", "rank must be positive, found " + rank);
        }
        if (init == null) {
            throw new PropertyException("", "init", "init must be one of KAIMING, GAUSSIAN, PISSA");
        }
        rankPattern().entries().forEach((key, r) -> {
            if (r == null || r <= 0) {
                throw new PropertyException("", "rankPattern", "rank for key '" + key + "' must be positive, found " + r);
            }
        });
        alphaPattern().entries().forEach((key, a) -> {
            if (a == null || !(a > 0) || a.isInfinite()) {
                throw new PropertyException("", "alphaPattern", "alpha for key '" + key
                        + "' must be a positive number, found " + a);
            }
        });
    }

    @Override
    public void checkSelection(List<String> modules) {
        for (ModulePattern<?> p : List.of(rankPattern(), alphaPattern())) {
            try {
                p.checkEachKeySelects(modules);
            } catch (IllegalArgumentException e) {
                throw new PropertyException("", p.field(), e.getMessage());
            }
        }
    }


    /** The rank r of modules that no {@code rankPattern} key selects. */
    public int rank() {
        return rank;
    }

    /** The rank of one module: its {@code rankPattern} value, else {@link #rank()}. */
    public int rank(String module) {
        return rankPattern().valueFor(module).orElse(rank);
    }

    /** The alpha of one module: its {@code alphaPattern} value, else {@link #alpha()}. */
    public double alpha(String module) {
        return alphaPattern().valueFor(module).orElse(alpha);
    }

    /** The per-module ranks (PEFT rank_pattern); empty when every module has rank r. */
    public ModulePattern<Integer> rankPattern() {
        return new ModulePattern<>("rankPattern", rankPattern);
    }

    /** The per-module alphas (PEFT alpha_pattern); empty when every module has the one alpha. */
    public ModulePattern<Double> alphaPattern() {
        return new ModulePattern<>("alphaPattern", alphaPattern);
    }

    /** Whether rsLoRA scaling is on. */
    public boolean useRslora() {
        return useRslora;
    }

    /** The initialisation. */
    public LoraInit init() {
        return init;
    }

    /** The factor on the adapter path of modules no pattern selects: alpha/r, or alpha/√r with rsLoRA. */
    public double scaling() {
        return scaling(alpha, rank);
    }

    /** The factor on one module's adapter path, from its own alpha and rank. */
    public double scaling(String module) {
        return scaling(alpha(module), rank(module));
    }

    private double scaling(double a, int r) {
        return useRslora ? a / Math.sqrt(r) : a / r;
    }

    @Override
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng) {
        InitialFactors f = initialFactors(base, moduleName, rng);
        return new LoraLinear(base, f.a(), f.b(), scaling(moduleName), dropout);
    }

    /**
     * A and B as the configured initialisation makes them (PiSSA also rewrites the base weight).
     *
     * @param a [r, in]
     * @param b [out, r]
     */
    protected record InitialFactors(NDArray a, NDArray b) {}

    /**
     * Why these settings cannot train on a quantized base, or empty: PiSSA rewrites the adapted base weights, which
     * quantized storage does not allow while training.
     */
    public java.util.Optional<String> quantizedBaseConflict() {
        if (init == LoraInit.PISSA) {
            return java.util.Optional.of("init=PISSA replaces every adapted base weight by its SVD residual, which a "
                    + "quantized base does not support; use init=KAIMING or GAUSSIAN on the quantized base, or remove "
                    + "the quantization");
        }
        return java.util.Optional.empty();
    }

    /** Creates A and B for one layer on the layer's manager. */
    protected InitialFactors initialFactors(DenseLinear base, String moduleName, SplittableRandom rng) {
        int in = base.inFeatures();
        int out = base.outFeatures();
        int r = rank(moduleName);
        if (r > Math.min(in, out)) {
            throw new PropertyException("", r == rank ? "rank" : "rankPattern", "rank " + r
                    + " exceeds the smaller dimension of " + moduleName + " (" + out + "×" + in + ")");
        }
        NDManager manager = base.manager();
        switch (init) {
            case KAIMING -> {
                double bound = 1.0 / Math.sqrt(in);
                return new InitialFactors(uniform(manager, r, in, bound, rng), manager.zeros(new Shape(out, r)));
            }
            case GAUSSIAN -> {
                return new InitialFactors(gaussian(manager, r, in, 1.0 / r, rng), manager.zeros(new Shape(out, r)));
            }
            case PISSA -> {
                PissaInit.Factors f = pissaFactors(HostTensor.of(base.weight().getArray()), moduleName);
                HostTensor.copyInto(f.residual(), base.weight().getArray());
                return new InitialFactors(f.a().toNDArray(manager), f.b().toNDArray(manager));
            }
            default -> throw new IllegalStateException("unknown init " + init);
        }
    }

    /**
     * PiSSA's factors and residual for one module's pretrained weight, at that module's rank and scaling:
     * what training starts from, and what a PEFT export needs to convert the trained adapter back.
     *
     * @param weight the module's original weight [out, in]
     * @param moduleName its full module name
     */
    public PissaInit.Factors pissaFactors(HostTensor weight, String moduleName) {
        return PissaInit.compute(weight, rank(moduleName), scaling(moduleName));
    }

    /** An array of U(−bound, bound) values drawn from {@code rng}: LoRA's kaiming A with bound 1/√in. */
    public static NDArray uniform(NDManager manager, int rows, int cols, double bound, SplittableRandom rng) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextDouble(-bound, bound);
        }
        return manager.create(v, new Shape(rows, cols));
    }

    /** An array of N(0, std²) values drawn from {@code rng}. */
    public static NDArray gaussian(NDManager manager, long rows, long cols, double std, SplittableRandom rng) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return manager.create(v, new Shape(rows, cols));
    }

    @Override
    public String toString() {
        return descriptor().name() + "(r=" + rank + ", alpha=" + alpha + ", dropout=" + dropout + ", targets="
                + (targetRegex.isEmpty() ? targetModules : targetRegex) + (useRslora ? ", rslora" : "") + ", init="
                + init + (rankPattern.isEmpty() ? "" : ", rankPattern=" + rankPattern().entries())
                + (alphaPattern.isEmpty() ? "" : ", alphaPattern=" + alphaPattern().entries()) + ")";
    }
}
