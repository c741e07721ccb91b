package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/**
 * A slot in an encoder layer that maps [..., in] to [..., out]: the frozen {@link DenseLinear} of the
 * pretrained model, or an adapter wrapping it. The encoder only ever calls this interface, so
 * swapping a method never touches the encoder code.
 */
public interface LinearLayer extends Block {
    /** The pretrained Linear underneath (the layer itself for a plain dense layer). */
    DenseLinear base();

    /**
     * Applies the layer.
     *
     * @param ps where parameter values are read from
     * @param x [..., in] input
     * @param training true while training (dropout active)
     * @return [..., out] output
     */
    NDArray apply(ParameterStore ps, NDArray x, boolean training);
}
