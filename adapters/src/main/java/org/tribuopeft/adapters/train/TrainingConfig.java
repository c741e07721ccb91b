package org.tribuopeft.adapters.train;

import org.tribuopeft.adapters.engine.ComputePrecision;

import java.util.Objects;

/**
 * Hyper-parameters of the training loop. Build one with {@link #builder(long)} rather than the positional
 * constructor, whose run of ints and doubles is easy to get wrong.
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
 * @param computePrecision the number format of each training step's forward and backward pass (an autocast-style
 *     setting: parameters, gradients and optimizer state stay float32); evaluation always runs in float32
 */
public record TrainingConfig(int epochs, int batchSize, double learningRate, double weightDecay, double warmupRatio,
                             double maxGradNorm, int earlyStoppingPatience, int evalBatchSize, long seed,
                             ComputePrecision computePrecision) {

    /** Validates every field, naming the one at fault. */
    public TrainingConfig {
        Objects.requireNonNull(computePrecision, "computePrecision must be FLOAT32 or BFLOAT16, not null");
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

    /**
     * A float32 config from positional values; prefer {@link #builder(long)}.
     *
     * @see #TrainingConfig(int, int, double, double, double, double, int, int, long, ComputePrecision)
     */
    public TrainingConfig(int epochs, int batchSize, double learningRate, double weightDecay, double warmupRatio,
                          double maxGradNorm, int earlyStoppingPatience, int evalBatchSize, long seed) {
        this(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, earlyStoppingPatience,
                evalBatchSize, seed, ComputePrecision.FLOAT32);
    }

    /** Defaults suited to adapters: 3 epochs, batch 16, lr 5e-4, decay 0.01, 10 % warm-up, clip 1.0. */
    public static TrainingConfig defaults(long seed) {
        return builder(seed).build();
    }

    /**
     * A builder starting from {@link #defaults(long)}'s values.
     *
     * @param seed the seed for shuffling and dropout
     */
    public static Builder builder(long seed) {
        return new Builder(seed);
    }

    /** Returns a copy with other epochs and batch size. */
    public TrainingConfig withEpochs(int newEpochs, int newBatchSize) {
        return toBuilder().epochs(newEpochs).batchSize(newBatchSize).build();
    }

    /** Returns a copy with another learning rate. */
    public TrainingConfig withLearningRate(double lr) {
        return toBuilder().learningRate(lr).build();
    }

    /** Returns a copy whose training steps run in {@code precision}. */
    public TrainingConfig withComputePrecision(ComputePrecision precision) {
        return toBuilder().computePrecision(precision).build();
    }

    /** Returns a copy with early stopping after {@code patience} epochs without improvement. */
    public TrainingConfig withEarlyStopping(int patience) {
        return toBuilder().earlyStoppingPatience(patience).build();
    }

    /** A builder holding this config's values. */
    public Builder toBuilder() {
        return builder(seed).epochs(epochs).batchSize(batchSize).learningRate(learningRate).weightDecay(weightDecay)
                .warmupRatio(warmupRatio).maxGradNorm(maxGradNorm).earlyStoppingPatience(earlyStoppingPatience)
                .evalBatchSize(evalBatchSize).computePrecision(computePrecision);
    }

    /** Sets the loop's hyper-parameters by name; {@link #build()} validates them. */
    public static final class Builder {
        private final long seed;
        private int epochs = 3;
        private int batchSize = 16;
        private double learningRate = 5e-4;
        private double weightDecay = 0.01;
        private double warmupRatio = 0.1;
        private double maxGradNorm = 1.0;
        private int earlyStoppingPatience = 0;
        private int evalBatchSize = 64;
        private ComputePrecision computePrecision = ComputePrecision.FLOAT32;

        private Builder(long seed) {
            this.seed = seed;
        }

        /** Maximum passes over the training data (default 3). */
        public Builder epochs(int value) {
            this.epochs = value;
            return this;
        }

        /** Examples per optimizer step (default 16). */
        public Builder batchSize(int value) {
            this.batchSize = value;
            return this;
        }

        /** Peak learning rate (default 5e-4). */
        public Builder learningRate(double value) {
            this.learningRate = value;
            return this;
        }

        /** AdamW decoupled weight decay (default 0.01). */
        public Builder weightDecay(double value) {
            this.weightDecay = value;
            return this;
        }

        /** Fraction of all steps spent warming up, in [0, 1) (default 0.1). */
        public Builder warmupRatio(double value) {
            this.warmupRatio = value;
            return this;
        }

        /** Global gradient-norm clip; 0 disables it (default 1.0). */
        public Builder maxGradNorm(double value) {
            this.maxGradNorm = value;
            return this;
        }

        /** Epochs without validation improvement before stopping; 0 disables (default 0). */
        public Builder earlyStoppingPatience(int value) {
            this.earlyStoppingPatience = value;
            return this;
        }

        /** Examples per batch when evaluating (default 64). */
        public Builder evalBatchSize(int value) {
            this.evalBatchSize = value;
            return this;
        }

        /**
         * The number format of each training step's forward and backward pass (default {@link ComputePrecision#FLOAT32});
         * {@link ComputePrecision#BFLOAT16} runs the encoder's matrix products and attention in bfloat16 while
         * parameters, gradients, the optimizer and evaluation stay float32.
         */
        public Builder computePrecision(ComputePrecision value) {
            this.computePrecision = value;
            return this;
        }

        /** The validated config. */
        public TrainingConfig build() {
            return new TrainingConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm,
                    earlyStoppingPatience, evalBatchSize, seed, computePrecision);
        }
    }
}
