package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import org.tribuopeft.adapters.engine.Scalars;

/** What the task head predicts, which fixes its activation and loss. */
public enum TaskKind {
    /** One class per example: softmax and cross-entropy. Targets are one-hot rows. */
    SINGLE_LABEL,
    /** Any number of labels per example: sigmoid and binary cross-entropy. Targets are 0/1 rows. */
    MULTI_LABEL,
    /** Real-valued outputs (one or more dimensions): identity and mean squared error. */
    REGRESSION;

    /**
     * The mean loss of a batch.
     *
     * @param logits [batch, outputs]
     * @param targets [batch, outputs]
     */
    public NDArray loss(NDArray logits, NDArray targets) {
        return switch (this) {
            case SINGLE_LABEL -> logits.logSoftmax(-1).mul(targets).sum(new int[] {1}).neg().mean();
            case MULTI_LABEL -> {
                // numerically stable BCE with logits: max(x, 0) − x·y + log(1 + e^−|x|)
                NDArray softplus = Scalars.add(logits.abs().neg().exp(), 1f).log();
                yield Activation.relu(logits).sub(logits.mul(targets)).add(softplus).mean();
            }
            case REGRESSION -> logits.sub(targets).square().mean();
        };
    }

    /** Turns logits into the model's outputs: probabilities, label probabilities, or values. */
    public NDArray activate(NDArray logits) {
        return switch (this) {
            case SINGLE_LABEL -> logits.softmax(-1);
            case MULTI_LABEL -> Activation.sigmoid(logits);
            case REGRESSION -> logits;
        };
    }
}
