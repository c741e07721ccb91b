package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;

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
