package org.tribuopeft.adapters.adalora;

/**
 * AdaLoRA's rank budget over training (PEFT's {@code RankAllocator.budget_schedule}): the full initial
 * budget until {@code tinit}, then a cubic decay to the target budget at {@code totalStep − tfinal},
 * re-masking every {@code deltaT} steps, then the target budget, masked every step, until the end.
 *
 * @param initBudget initR × number of adapted matrices
 * @param targetBudget targetR × number of adapted matrices
 * @param tinit steps of warm-up at the full budget
 * @param tfinal steps of final fine-tuning at the target budget
 * @param deltaT steps between re-masks during the decay
 * @param totalStep the number of optimizer steps in training
 */
public record BudgetSchedule(int initBudget, int targetBudget, int tinit, int tfinal, int deltaT, int totalStep) {

    /** Checks that the schedule has a budgeting phase, naming the settings that prevent one. */
    public BudgetSchedule {
        if (targetBudget > initBudget || targetBudget <= 0) {
            throw new IllegalArgumentException("targetR must be between 1 and initR (budget " + targetBudget + " of "
                    + initBudget + ")");
        }
        if (deltaT <= 0) {
            throw new IllegalArgumentException("deltaT must be positive, found " + deltaT);
        }
        if (tinit < 0 || tfinal < 0) {
            throw new IllegalArgumentException("tinit and tfinal must be >= 0, found " + tinit + " and " + tfinal);
        }
        if (tinit >= totalStep - tfinal) {
            throw new IllegalArgumentException("tinit (" + tinit + ") + tfinal (" + tfinal + ") leave no budgeting phase "
                    + "in " + totalStep + " total steps; lower them or train longer");
        }
    }

    /**
     * The budget at a step and whether to mask at that step.
     *
     * @param budget total rank allowed
     * @param mask whether the allocator re-masks now
     */
    public record Decision(int budget, boolean mask) {}

    /** The budget at optimizer step {@code step} (1-based) and whether to mask. */
    public Decision at(int step) {
        if (step <= tinit) {
            return new Decision(initBudget, false);
        }
        if (step > totalStep - tfinal) {
            return new Decision(targetBudget, true);
        }
        double mulCoeff = 1.0 - (double) (step - tinit) / (totalStep - tfinal - tinit);
        int budget = (int) ((initBudget - targetBudget) * (mulCoeff * mulCoeff * mulCoeff) + targetBudget);
        return new Decision(budget, step % deltaT == 0);
    }

    /** The step at which the final allocation is fixed. */
    public int finalStep() {
        return totalStep - tfinal;
    }
}
