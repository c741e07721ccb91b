package org.tribuopeft.adapters.backbone;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;

/**
 * Extra input embeddings placed before every sequence's word embeddings, as if they were the embeddings of
 * tokens the text does not contain. The encoder gives them positions {@code 0..count-1} and token type 0, moves
 * the real tokens' positions up by {@code count}, lets every token attend to them, and leaves them out of its
 * output, so pooling and heads see only the real tokens.
 */
public interface VirtualTokens {
    /** Number of virtual tokens, at least 1. */
    int count();

    /**
     * The virtual tokens' word embeddings.
     *
     * @return [count, hidden]
     */
    NDArray embeddings(ParameterStore ps, Device device, boolean training);
}
