package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;
import java.util.function.IntToDoubleFunction;

/**
 * What a method may add to the training loop. The loop calls these itself, so a method that needs
 * them (AdaLoRA's orthogonal penalty and rank allocator) cannot be forgotten by the user.
 */
public interface TrainingHook {
    /** A hook that does nothing. */
    TrainingHook NONE = new TrainingHook() { };

    /** Called once before the first step with the number of optimizer steps planned. */
    default void beforeTraining(int totalSteps) { }

    /**
     * An extra term added to the task loss during training, or null for none.
     *
     * @param ps where parameter values are read from
     */
    default NDArray regularization(ParameterStore ps) {
        return null;
    }

    /** True when {@link #afterStep} needs the step's gradients. */
    default boolean needsGradients() {
        return false;
    }

    /**
     * Called after each optimizer step.
     *
     * @param step the number of optimizer steps completed, from 1
     * @param gradients the (clipped) gradients the step used, by trainable parameter name; empty unless
     *     {@link #needsGradients()}
     */
    default void afterStep(int step, Map<String, NDArray> gradients) { }

    /**
     * Settings the hook chose for this run in {@link #beforeTraining} (for example AdaLoRA's schedule fitted to
     * a short run), by name, to be recorded in the run's provenance; empty when it used the configuration as is.
     */
    default Map<String, String> resolvedSettings() {
        return Map.of();
    }

    /**
     * Called by the loop after each optimizer step, with the optimizer's moments for methods that
     * change them (ReLoRA prunes them after each reset); by default {@link #afterStep(int, Map)}.
     *
     * @param step the number of optimizer steps completed, from 1
     * @param gradients as for {@link #afterStep(int, Map)}
     * @param optimizer the moments of the optimizer that took the step
     */
    default void afterStep(int step, Map<String, NDArray> gradients, OptimizerMoments optimizer) {
        afterStep(step, gradients);
    }

    /**
     * The learning rate of each step, by the step's 0-based index: the loop's planned schedule unless the
     * method prescribes its own (ReLoRA's re-warm-up after every reset).
     *
     * @param planned the loop's linear warm-up and decay
     * @param peak the configured learning rate
     * @param warmupSteps the configured number of warm-up steps
     * @param totalSteps the optimizer steps of the whole run
     */
    default IntToDoubleFunction learningRates(IntToDoubleFunction planned, double peak, int warmupSteps,
                                              int totalSteps) {
        return planned;
    }

    /** Called once after the last step. */
    default void afterTraining() { }

    /**
     * The hook's own state between steps (AdaLoRA's sensitivity averages and budget), as named host
     * tensors, so a checkpoint can continue the run exactly; empty for a stateless hook.
     */
    default Map<String, HostTensor> checkpointState() {
        return Map.of();
    }

    /**
     * Restores what {@link #checkpointState()} returned, after {@link #beforeTraining} was called with
     * the same number of planned steps.
     *
     * @throws IllegalArgumentException naming the first entry that does not fit this hook
     */
    default void restoreCheckpointState(Map<String, HostTensor> state) {
        if (!state.isEmpty()) {
            throw new IllegalArgumentException("this method keeps no training state, but the checkpoint holds "
                    + state.keySet());
        }
    }
}
