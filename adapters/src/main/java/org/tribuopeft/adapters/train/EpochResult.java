package org.tribuopeft.adapters.train;

/**
 * What one epoch achieved.
 *
 * @param epoch 1-based epoch number
 * @param steps optimizer steps taken in the epoch
 * @param trainLoss mean training loss (task loss plus any method regulariser) over the epoch
 * @param validationLoss mean task loss on the validation split, NaN without one
 * @param validationMetricName accuracy, micro_f1 or rmse
 * @param validationMetric the metric's value, NaN without a validation split
 * @param seconds wall time of the epoch, evaluation included
 */
public record EpochResult(int epoch, int steps, double trainLoss, double validationLoss, String validationMetricName,
                          double validationMetric, double seconds) {}
