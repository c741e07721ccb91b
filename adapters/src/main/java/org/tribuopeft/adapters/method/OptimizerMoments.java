package org.tribuopeft.adapters.method;

import java.util.Collection;

/**
 * The part of the optimizer a method's {@link TrainingHook} may touch between steps: the moment
 * estimates of named parameters. ReLoRA prunes them after each reset so the restarted factors are not
 * pushed along the directions the previous factors were moving in.
 */
public interface OptimizerMoments {
    /**
     * Zeroes, in the first and in the second moment of each named parameter separately, the
     * {@code floor(ratio · size)} entries smallest in magnitude (ties broken by position). A ratio of 1
     * resets the moments; 0 keeps them. Parameters without moments yet are skipped.
     *
     * @param parameterNames full names of trained parameters
     * @param ratio the fraction of each moment tensor to zero, in [0, 1]
     * @return how many entries were zeroed, over all tensors
     * @throws IllegalArgumentException for a ratio outside [0, 1] or a name the optimizer does not train
     */
    long prune(Collection<String> parameterNames, double ratio);
}
