package org.tribuopeft.adapters.train;

/**
 * Progress after one optimizer step.
 *
 * @param epoch 1-based epoch
 * @param epochs planned epochs
 * @param step optimizer steps completed in the run
 * @param totalSteps planned steps in the run
 * @param loss this step's loss
 * @param epochMeanLoss mean loss so far in this epoch
 * @param learningRate the learning rate used by this step
 * @param stepsPerSecond recent training speed
 * @param etaSeconds estimated seconds to the end of training (evaluation excluded)
 */
public record StepProgress(int epoch, int epochs, int step, int totalSteps, double loss, double epochMeanLoss,
                           double learningRate, double stepsPerSecond, double etaSeconds) {}
