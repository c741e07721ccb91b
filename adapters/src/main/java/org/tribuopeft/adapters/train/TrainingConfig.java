package org.tribuopeft.adapters.train;

/**
 * Hyper-parameters of the training loop.
 *
 * @param epochs maximum passes over the training data
 * @param batchSize examples per optimizer step
 * @param learningRate peak learning rate
 * @param weightDecay AdamW decoupled decay (not applied to biases and LayerNorm)
 * @param warmupRatio fraction of all steps spent warming up
 * @param maxGradNorm global gradient-norm clip; 0 or less disables clipping
 * @param earlyStoppingPatience epochs without validation improvement before stopping; 0 disables
 * @param evalBatchSize examples per batch when evaluating
 * @param seed the seed for shuffling and dropout
 */
public record TrainingConfig(int epochs, int batchSize, double learningRate, double weightDecay, double warmupRatio,
                             double maxGradNorm, int earlyStoppingPatience, int evalBatchSize, long seed) {

    /** Validates every field, naming the one at fault. */
    public TrainingConfig {
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be positive, got " + learningRate);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new IllegalArgumentException("warmupRatio must be in [0, 1), got " + warmupRatio);
        }
        if (earlyStoppingPatience < 0) {
            throw new IllegalArgumentException("earlyStoppingPatience must be >= 0, got " + earlyStoppingPatience);
        }
        if (evalBatchSize <= 0) {
            throw new IllegalArgumentException("evalBatchSize must be positive, got " + evalBatchSize);
        }
    }

    /** Defaults suited to adapters: 3 epochs, batch 16, lr 5e-4, decay 0.01, 10 % warm-up, clip 1.0. */
    public static TrainingConfig defaults(long seed) {
        return new TrainingConfig(3, 16, 5e-4, 0.01, 0.1, 1.0, 0, 64, seed);
    }

    /** Returns a copy with other epochs and batch size. */
    public TrainingConfig withEpochs(int newEpochs, int newBatchSize) {
        return new TrainingConfig(newEpochs, newBatchSize, learningRate, weightDecay, warmupRatio, maxGradNorm,
                earlyStoppingPatience, evalBatchSize, seed);
    }

    /** Returns a copy with another learning rate. */
    public TrainingConfig withLearningRate(double lr) {
        return new TrainingConfig(epochs, batchSize, lr, weightDecay, warmupRatio, maxGradNorm, earlyStoppingPatience,
                evalBatchSize, seed);
    }

    /** Returns a copy with early stopping after {@code patience} epochs without improvement. */
    public TrainingConfig withEarlyStopping(int patience) {
        return new TrainingConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, patience,
                evalBatchSize, seed);
    }
}
