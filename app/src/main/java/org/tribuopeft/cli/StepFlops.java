package org.tribuopeft.cli;

import org.tribuopeft.adapters.backbone.BertConfig;

/**
 * Floating-point operations of one BERT training step, counted from the matmuls that dominate it: the
 * six dense projections per layer and the two attention products. The forward pass costs 2·m·k·n per
 * [m,k]×[k,n] product; the backward pass costs the same again for the input gradient of every product,
 * and once more for the weight gradient of each dense layer that trains (full fine-tuning only). Adapter
 * matmuls (rank 8 on two modules) add under 1 % and are left out, as are softmax, GELU and LayerNorm.
 */
final class StepFlops {
    private StepFlops() {}

    /**
     * FLOPs of one training step.
     *
     * @param config the encoder's shape
     * @param batch sequences per step
     * @param tokens tokens per sequence
     * @param denseWeightsTrain true when every dense weight gets a gradient (full fine-tuning)
     * @return FLOPs (not per second)
     */
    static double trainingStep(BertConfig config, int batch, int tokens, boolean denseWeightsTrain) {
        double rows = (double) batch * tokens;
        double h = config.hiddenSize();
        double ffn = config.intermediateSize();
        double denseForward = 2 * rows * (4 * h * h + 2 * h * ffn);
        // scores = Q·Kᵀ and context = P·V, each 2·batch·tokens·tokens·hidden over all heads
        double attentionForward = 2 * (2.0 * batch * tokens * tokens * h);
        double perLayer = 2 * (denseForward + attentionForward) + (denseWeightsTrain ? denseForward : 0);
        return config.numLayers() * perLayer;
    }
}
