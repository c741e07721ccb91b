package org.tribuopeft.adapters.backbone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * Extra keys and values that every attention layer sees before the keys and values of the input (a Hugging Face
 * {@code past_key_values} of {@code count} positions): every token may attend to them, the input's positions
 * start at {@code count}, and the output holds the input's tokens only.
 */
public interface AttentionPrefix {
    /** Number of prefix positions, at least 1. */
    int count();

    /**
     * The prefix keys and values of every layer, heads side by side as the key and value Linears produce them.
     *
     * @return [layers, 2, count, hidden]: index 0 of the second axis holds keys, index 1 values
     */
    NDArray keysAndValues(ParameterStore ps, Device device, boolean training);
}
