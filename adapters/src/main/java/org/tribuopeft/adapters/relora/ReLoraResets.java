package org.tribuopeft.adapters.relora;

import ai.djl.ndarray.NDArray;
import org.tribuopeft.adapters.method.OptimizerMoments;
import org.tribuopeft.adapters.method.TrainingHook;
import org.tribuopeft.adapters.train.JaggedCosineSchedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/**
 * ReLoRA's part of the training loop: every {@code resetInterval} steps it restarts every layer (merge,
 * fresh A, zero B) and prunes the adapter's optimizer moments, and it replaces the learning rate with
 * the jagged cosine schedule. The k-th reset draws its new factors from a generator seeded by the run's
 * reset seed and k alone, and the rewritten base weights travel in the model snapshot, so a run resumed
 * from a checkpoint continues bit for bit without hook state of its own.
 */
final class ReLoraResets implements TrainingHook {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final Map<String, ReLoraLinear> layers;
    private final List<String> adapterParameters;
    private final int resetInterval;
    private final double pruneRatio;
    private final int restartWarmupSteps;
    private final long resetSeed;
    private int totalSteps = Integer.MAX_VALUE;

    /**
     * @param layers the restartable layers by module name, in restart order
     * @param resetInterval optimizer steps between resets
     * @param pruneRatio the fraction of each adapter moment tensor zeroed at a reset
     * @param restartWarmupSteps steps of learning-rate re-warm-up after a reset
     * @param resetSeed the seed every reset's fresh factors derive from
     */
    ReLoraResets(Map<String, ReLoraLinear> layers, int resetInterval, double pruneRatio, int restartWarmupSteps,
                 long resetSeed) {
        this.layers = new LinkedHashMap<>(layers);
        this.adapterParameters = new ArrayList<>();
        layers.forEach((module, layer) -> layer.adapterParameters().keySet()
                .forEach(name -> adapterParameters.add(module + "." + name)));
        this.resetInterval = resetInterval;
        this.pruneRatio = pruneRatio;
        this.restartWarmupSteps = restartWarmupSteps;
        this.resetSeed = resetSeed;
    }

    @Override
    public void beforeTraining(int plannedSteps) {
        this.totalSteps = plannedSteps;
    }

    @Override
    public void afterStep(int step, Map<String, NDArray> gradients, OptimizerMoments optimizer) {
        // a reset after the last step would only round the weights: the run ends with the factors unmerged
        if (step % resetInterval == 0 && step < totalSteps) {
            reset(step / resetInterval, optimizer);
        }
    }

    /** The k-th reset (from 1): restart every layer, then prune the adapter's moments. */
    void reset(int k, OptimizerMoments optimizer) {
        SplittableRandom rng = new SplittableRandom(resetSeed + GOLDEN * k);
        layers.values().forEach(l -> l.restart(rng));
        optimizer.prune(adapterParameters, pruneRatio);
    }

    /** Full names of the parameters whose moments a reset prunes. */
    List<String> adapterParameters() {
        return List.copyOf(adapterParameters);
    }

    @Override
    public IntToDoubleFunction learningRates(IntToDoubleFunction planned, double peak, int warmupSteps,
                                             int plannedSteps) {
        return new JaggedCosineSchedule(peak, warmupSteps, plannedSteps, resetInterval, restartWarmupSteps)::at;
    }
}
