package org.tribuopeft.adapters.train;

/**
 * Linear warm-up from 0 to the peak learning rate, then linear decay to 0 at the last step: Hugging
 * Face's {@code get_linear_schedule_with_warmup}, evaluated at the 0-based index of each step.
 *
 * @param peak the learning rate at the end of warm-up
 * @param warmupSteps steps of warm-up
 * @param totalSteps steps in the whole run
 */
public record LinearWarmupSchedule(double peak, int warmupSteps, int totalSteps) {

    /** Validates the schedule. */
    public LinearWarmupSchedule {
        if (!(peak > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        }
        if (warmupSteps < 0 || totalSteps <= 0 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("need 0 <= warmupSteps <= totalSteps and totalSteps > 0, got "
                    + warmupSteps + " and " + totalSteps);
        }
    }

    /** The learning rate for the step with 0-based index {@code step}. */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        return peak * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }
}
