package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.LinearLayer;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.TargetSelection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * VeRA (Kopiczko et al. 2024, as PEFT 0.21): one pair of frozen random projections {@code vera_A}
 * [r, max in] and {@code vera_B} [max out, r] shared by every adapted Linear (each slices what fits
 * it), and per layer two trainable scaling vectors λ_d [r] (initialised to {@code dInitial}) and λ_b
 * [out] (initialised to 0, so training starts from the pretrained model). The projections are drawn
 * kaiming-uniform, as PEFT draws them, from the trainer's generator; they are saved with the model.
 * {@code alpha} is not used by VeRA.
 */
public class VeraConfig extends LowRankConfig {
    /** The method-state name of the shared projection A. */
    public static final String VERA_A = "vera_A";
    /** The method-state name of the shared projection B. */
    public static final String VERA_B = "vera_B";

    @Config(description = "Rank r of the shared random projections (PEFT r, default 256); must be positive. VeRA's "
            + "trainable count grows by r per adapted layer only, so use far larger ranks than with LoRA.")
    protected int rank = 256;

    @Config(description = "Initial value of every entry of the trainable vector lambda_d (PEFT d_initial); finite, "
            + "small values (<= 0.1) recommended.")
    protected double dInitial = 0.1;

    /** PEFT's defaults (r 256, d_initial 0.1, query and value). */
    public VeraConfig() { }

    /**
     * VeRA on the given modules.
     *
     * @param rank r
     * @param dInitial initial λ_d value
     * @param dropout adapter-input dropout
     * @param targetModules module names (PEFT matching), e.g. {@code ["query", "value"]}
     */
    public VeraConfig(int rank, double dInitial, double dropout, List<String> targetModules) {
        this.rank = rank;
        this.dInitial = dInitial;
        this.dropout = dropout;
        this.targetModules = new ArrayList<>(targetModules);
        postConfig();
    }

    @Override
    public void postConfig() {
        super.postConfig();
        if (rank <= 0) {
            throw new PropertyException("", "rank", "rank must be positive, found " + rank);
        }
        if (!Double.isFinite(dInitial)) {
            throw new PropertyException("", "dInitial", "dInitial must be a finite number, found " + dInitial);
        }
    }

    /** Returns this config with another bias mode (LORA_ONLY is PEFT's vera_only). */
    public VeraConfig withBias(BiasMode mode) {
        this.bias = mode;
        postConfig();
        return this;
    }

    /** The rank r. */
    public int rank() {
        return rank;
    }

    /** The initial λ_d value. */
    public double dInitial() {
        return dInitial;
    }

    @Override
    protected Map<String, Parameter> createSharedState(BertEncoder encoder, List<String> modules, SplittableRandom rng) {
        int maxIn = 0;
        int maxOut = 0;
        NDManager manager = null;
        for (String module : modules) {
            TargetSelection.Located loc = TargetSelection.locate(module);
            LinearLayer l = encoder.layers().get(loc.layer()).linear(loc.target());
            maxIn = Math.max(maxIn, l.base().inFeatures());
            maxOut = Math.max(maxOut, l.base().outFeatures());
            manager = l.base().manager();
        }
        if (manager == null) {
            throw new PropertyException("", "targetModules", "VeRA selected no module to adapt");
        }
        Map<String, Parameter> state = new LinkedHashMap<>();
        state.put(VERA_A, frozen(VERA_A, kaimingUniform(rank, maxIn, rng), new Shape(rank, maxIn), manager));
        state.put(VERA_B, frozen(VERA_B, kaimingUniform(maxOut, rank, rng), new Shape(maxOut, rank), manager));
        return state;
    }

    /** PEFT's {@code _kaiming_init}: U(−√(6/fan_in), √(6/fan_in)) with fan_in the number of columns. */
    static float[] kaimingUniform(int rows, int cols, SplittableRandom rng) {
        double bound = Math.sqrt(6.0 / cols);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextDouble(-bound, bound);
        }
        return v;
    }

    private static Parameter frozen(String name, float[] values, Shape shape, NDManager manager) {
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(manager.create(values, shape));
        p.freeze(true);
        return p;
    }

    @Override
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng,
                                       Map<String, Parameter> sharedState) {
        NDManager manager = base.manager();
        return new VeraLinear(base, sharedState.get(VERA_A), sharedState.get(VERA_B),
                manager.full(new Shape(rank), (float) dInitial), manager.zeros(new Shape(base.outFeatures())), dropout);
    }

    @Override
    public String toString() {
        return "vera(r=" + rank + ", dInitial=" + dInitial + ", dropout=" + dropout + ", targets="
                + (targetRegex.isEmpty() ? targetModules : targetRegex) + ", bias=" + bias + ")";
    }
}
