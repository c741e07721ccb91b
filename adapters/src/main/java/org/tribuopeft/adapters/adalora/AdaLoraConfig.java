package org.tribuopeft.adapters.adalora;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.TrainingHook;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * AdaLoRA: every target starts at rank {@code initR} in SVD form and the training loop prunes the
 * least important singular triplets on a cubic schedule until {@code targetR × matrices} remain.
 * Defaults are PEFT's (initR 12, targetR 8, β1 = β2 = 0.85, orthRegWeight 0.5, alpha 8).
 */
public class AdaLoraConfig extends LowRankConfig {

    @Config(description = "Initial rank of every adapted matrix.")
    protected int initR = 12;

    @Config(description = "Average rank per matrix after allocation; the total budget is targetR × matrices.")
    protected int targetR = 8;

    @Config(description = "Warm-up steps at the full budget before pruning starts. When totalStep is 0 and tinit + "
            + "tfinal leave no budget decay in the run's steps, both are scaled down by one factor so that the decay "
            + "takes half the run (recorded in the training-run provenance).")
    protected int tinit = 0;

    @Config(description = "Final steps at the fixed target budget (scaled with tinit on runs too short for them).")
    protected int tfinal = 0;

    @Config(description = "Steps between re-allocations during the budget decay.")
    protected int deltaT = 1;

    @Config(description = "EMA factor of the sensitivity, in (0, 1).")
    protected double beta1 = 0.85;

    @Config(description = "EMA factor of the uncertainty, in (0, 1).")
    protected double beta2 = 0.85;

    @Config(description = "Weight of the orthogonality penalty on P and Q; must be positive.")
    protected double orthRegWeight = 0.5;

    @Config(description = "Total optimizer steps the schedule spans; 0 uses the training run's step count.")
    protected int totalStep = 0;

    /** PEFT's defaults. */
    public AdaLoraConfig() { }

    /**
     * AdaLoRA on the given modules.
     *
     * @param initR initial rank
     * @param targetR final average rank
     * @param alpha scaling
     * @param targetModules module names (PEFT matching)
     */
    public AdaLoraConfig(int initR, int targetR, double alpha, List<String> targetModules) {
        this.initR = initR;
        this.targetR = targetR;
        this.alpha = alpha;
        this.targetModules = new ArrayList<>(targetModules);
        postConfig();
    }

    /** A new config equal to this one but with other schedule phases (in optimizer steps); this one is unchanged. */
    public AdaLoraConfig withSchedule(int newTinit, int newTfinal, int newDeltaT) {
        AdaLoraConfig c = copy();
        c.tinit = newTinit;
        c.tfinal = newTfinal;
        c.deltaT = newDeltaT;
        c.postConfig();
        return c;
    }

    /**
     * A new config equal to this one but with the schedule's total step count fixed (0 = the training run's); this
     * one is unchanged.
     */
    public AdaLoraConfig withTotalStep(int steps) {
        AdaLoraConfig c = copy();
        c.totalStep = steps;
        c.postConfig();
        return c;
    }

    @Override
    public void postConfig() {
        super.postConfig();
        if (initR <= 0) {
            throw new PropertyException("", "initR", "initR must be positive, found " + initR);
        }
        if (targetR <= 0 || targetR > initR) {
            throw new PropertyException("", "targetR", "targetR must be in [1, initR=" + initR + "], found " + targetR);
        }
        if (tinit < 0) {
            throw new PropertyException("", "tinit", "tinit must be >= 0, found " + tinit);
        }
        if (tfinal < 0) {
            throw new PropertyException("", "tfinal", "tfinal must be >= 0, found " + tfinal);
        }
        if (deltaT <= 0) {
            throw new PropertyException("", "deltaT", "deltaT must be positive, found " + deltaT);
        }
        if (!(beta1 > 0 && beta1 < 1)) {
            throw new PropertyException("", "beta1", "beta1 must be in (0, 1), found " + beta1);
        }
        if (!(beta2 > 0 && beta2 < 1)) {
            throw new PropertyException("", "beta2", "beta2 must be in (0, 1), found " + beta2);
        }
        if (!(orthRegWeight > 0)) {
            throw new PropertyException("", "orthRegWeight", "orthRegWeight must be positive, found " + orthRegWeight);
        }
        if (totalStep < 0) {
            throw new PropertyException("", "totalStep", "totalStep must be >= 0, found " + totalStep);
        }
        if (totalStep > 0 && tinit >= totalStep - tfinal) {
            throw new PropertyException("", "totalStep", "tinit (" + tinit + ") + tfinal (" + tfinal
                    + ") leave no budgeting phase in totalStep " + totalStep);
        }
    }

    /**
     * The budget schedule for a run: {@code totalStep} when set, else the run's own step count. On a run too short
     * for the configured {@code tinit} and {@code tfinal} (they would leave no budget decay), both are scaled down by
     * the factor {@code (runSteps / 2) / (tinit + tfinal)} and rounded down, so that the decay takes half the run
     * and warm-up and final phases keep their proportion. A fixed {@code totalStep} is never changed:
     * {@link #postConfig()} already checked it.
     *
     * @param matrices the number of adapted matrices (the budget is rank × matrices)
     * @param runSteps the optimizer steps the run plans
     */
    public BudgetSchedule schedule(int matrices, int runSteps) {
        int total = totalStep > 0 ? totalStep : runSteps;
        int warm = tinit;
        int last = tfinal;
        if (totalStep == 0 && warm + last > 0 && warm >= total - last) {
            double factor = (total / 2.0) / (warm + last);
            warm = (int) Math.floor(warm * factor);
            last = (int) Math.floor(last * factor);
        }
        return new BudgetSchedule(initR * matrices, targetR * matrices, warm, last, deltaT, total);
    }

    /** Initial rank. */
    public int initR() {
        return initR;
    }

    /** Final average rank. */
    public int targetR() {
        return targetR;
    }

    /** Warm-up steps. */
    public int tinit() {
        return tinit;
    }

    /** Final fixed-budget steps. */
    public int tfinal() {
        return tfinal;
    }

    /** Steps between re-allocations. */
    public int deltaT() {
        return deltaT;
    }

    /** Sensitivity EMA factor. */
    public double beta1() {
        return beta1;
    }

    /** Uncertainty EMA factor. */
    public double beta2() {
        return beta2;
    }

    /** Orthogonality penalty weight. */
    public double orthRegWeight() {
        return orthRegWeight;
    }

    /** Total steps of the schedule (0 = the training run's). */
    public int totalStep() {
        return totalStep;
    }

    /**
     * {@code 1e-2}, five times LoRA's default: Λ starts at zero and P, Q at N(0, 0.02) (PEFT's initialisation, kept
     * for compatibility), so early on only Λ's {@code initR} values per matrix carry the task gradient, and AdamW moves
     * each by at most about the learning rate per step; at LoRA's rate the update after a short run is some thirty
     * times smaller than LoRA's (docs/benchmarks.md, "Quality over seeds").
     */
    @Override
    public double defaultLearningRate() {
        return 1e-2;
    }

    @Override
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng) {
        if (initR > Math.min(base.inFeatures(), base.outFeatures())) {
            throw new PropertyException("", "initR", "initR " + initR + " exceeds the smaller dimension of "
                    + moduleName);
        }
        NDManager manager = base.manager();
        return new AdaLoraLinear(base,
                LoraConfig.gaussian(manager, initR, base.inFeatures(), 0.02, rng),
                manager.zeros(new Shape(initR, 1)),
                LoraConfig.gaussian(manager, base.outFeatures(), initR, 0.02, rng),
                alpha, dropout);
    }

    @Override
    protected TrainingHook createHook(Map<String, AdapterLayer> layers) {
        Map<String, AdaLoraLinear> ada = new LinkedHashMap<>();
        layers.forEach((k, v) -> ada.put(k, (AdaLoraLinear) v));
        return new RankAllocator(this, ada);
    }

    @Override
    public String toString() {
        return "adalora(initR=" + initR + ", targetR=" + targetR + ", alpha=" + alpha + ", tinit=" + tinit + ", tfinal="
                + tfinal + ", deltaT=" + deltaT + ", targets=" + (targetRegex.isEmpty() ? targetModules : targetRegex)
                + ")";
    }
}
