package org.tribuopeft.adapters.train;

/**
 * ReLoRA's jagged learning rate (Lialin et al. 2023, {@code get_cosine_schedule_with_multiple_warmups}
 * in their code, with the minimum ratio 0): a linear warm-up from 0 over {@code warmupSteps}, then
 * cosine decay to 0 at the last step; after every reset the rate drops to 0 and climbs linearly back to
 * the cosine curve over {@code restartWarmupSteps}, so the freshly initialised factors start gently.
 * Evaluated at the 0-based index of each step, as {@link LinearWarmupSchedule} is: the step with index
 * {@code k·restartEvery} is the first after the k-th reset.
 *
 * @param peak the learning rate at the end of the first warm-up
 * @param warmupSteps steps of the first warm-up
 * @param totalSteps steps in the whole run
 * @param restartEvery steps between resets
 * @param restartWarmupSteps steps of each re-warm-up after a reset
 */
public record JaggedCosineSchedule(double peak, int warmupSteps, int totalSteps, int restartEvery,
                                   int restartWarmupSteps) {

    /** Validates the schedule. */
    public JaggedCosineSchedule {
        new LinearWarmupSchedule(peak, warmupSteps, totalSteps);
        if (restartEvery <= 0 || restartWarmupSteps < 0 || restartWarmupSteps >= restartEvery) {
            throw new IllegalArgumentException("need restartEvery > 0 and 0 <= restartWarmupSteps < restartEvery, got "
                    + restartEvery + " and " + restartWarmupSteps);
        }
    }

    /** The learning rate for the step with 0-based index {@code step}. */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        int sinceReset = step % restartEvery;
        if (step >= restartEvery && sinceReset < restartWarmupSteps) {
            double target = cosine(step - sinceReset + restartWarmupSteps);
            return peak * target * sinceReset / restartWarmupSteps;
        }
        return peak * cosine(step);
    }

    private double cosine(int step) {
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
