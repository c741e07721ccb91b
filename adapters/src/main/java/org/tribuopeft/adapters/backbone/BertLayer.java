package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.engine.TrainingDropout;

import java.util.EnumMap;
import java.util.Map;

/**
 * One Hugging Face BERT layer: multi-head self-attention with an additive padding mask, residual and
 * post-LayerNorm, then the feed-forward block with residual and post-LayerNorm. Each of its six
 * Linear layers is a {@link LinearLayer} slot that an adapter may occupy.
 */
public final class BertLayer extends NamedBlock {
    private final BertConfig config;
    private final Map<TargetModule, LinearLayer> linears = new EnumMap<>(TargetModule.class);
    private final Parameter attnLnWeight;
    private final Parameter attnLnBias;
    private final Parameter outLnWeight;
    private final Parameter outLnBias;

    BertLayer(BertConfig config, Map<TargetModule, DenseLinear> dense, NDArray attnLnWeight, NDArray attnLnBias,
              NDArray outLnWeight, NDArray outLnBias) {
        this.config = config;
        for (TargetModule t : TargetModule.values()) {
            DenseLinear d = dense.get(t);
            if (d == null) {
                throw new IllegalArgumentException("missing Linear " + t.path());
            }
            linears.put(t, addModule(t.path(), d));
        }
        this.attnLnWeight = addParameter("attention.output.LayerNorm.weight", Parameter.Type.GAMMA, attnLnWeight);
        this.attnLnBias = addParameter("attention.output.LayerNorm.bias", Parameter.Type.BETA, attnLnBias);
        this.outLnWeight = addParameter("output.LayerNorm.weight", Parameter.Type.GAMMA, outLnWeight);
        this.outLnBias = addParameter("output.LayerNorm.bias", Parameter.Type.BETA, outLnBias);
    }

    /** The layer currently in a slot (the pretrained Linear or an adapter around it). */
    public LinearLayer linear(TargetModule target) {
        return linears.get(target);
    }

    /**
     * Puts a layer into a slot, returning the previous occupant. The new layer must map the same widths.
     */
    public LinearLayer setLinear(TargetModule target, LinearLayer layer) {
        DenseLinear old = linears.get(target).base();
        if (layer.base().inFeatures() != old.inFeatures() || layer.base().outFeatures() != old.outFeatures()) {
            throw new IllegalArgumentException("layer for " + target.path() + " maps " + layer.base().inFeatures()
                    + "→" + layer.base().outFeatures() + " but the slot needs " + old.inFeatures() + "→"
                    + old.outFeatures());
        }
        replaceModule(target.path(), layer);
        return linears.put(target, layer);
    }

    /**
     * Runs the layer.
     *
     * @param x [batch, tokens, hidden]
     * @param maskBias [batch, 1, 1, tokens]: 0 where attending is allowed, a large negative number on padding;
     *     null when no position is padded
     * @return [batch, tokens, hidden]
     */
    public NDArray apply(ParameterStore ps, NDArray x, NDArray maskBias, boolean training) {
        return apply(ps, x, maskBias, null, training);
    }

    /**
     * Runs the layer with prefix keys and values placed before the input's own.
     *
     * @param x [batch, tokens, hidden]
     * @param maskBias [batch, 1, 1, prefix + tokens]: 0 where attending is allowed, a large negative number on padding;
     *     null when no position is padded
     * @param prefix [2, prefix, hidden] keys then values, or null for none
     * @return [batch, tokens, hidden]
     */
    public NDArray apply(ParameterStore ps, NDArray x, NDArray maskBias, NDArray prefix, boolean training) {
        long batch = x.getShape().get(0);
        var device = x.getDevice();

        // Each intermediate is closed as soon as the forward pass no longer needs it. Closing frees only our
        // handle: a tensor that autograd saved for the backward pass stays alive in the graph and is released
        // by backward itself, as in Python. Without this, every intermediate of all layers stayed allocated
        // until the end of the step (hundreds of MB at batch 16 × 128).
        NDArray q = linears.get(TargetModule.QUERY).apply(ps, x, training);
        NDArray keys = linears.get(TargetModule.KEY).apply(ps, x, training);
        NDArray values = linears.get(TargetModule.VALUE).apply(ps, x, training);
        if (prefix != null) {
            long p = prefix.getShape().get(1);
            Shape prefixShape = new Shape(batch, p, config.hiddenSize());
            NDArray withKeys = prefix.get(0).expandDims(0).broadcast(prefixShape).concat(keys, 1);
            release(keys, x);
            keys = withKeys;
            NDArray withValues = prefix.get(1).expandDims(0).broadcast(prefixShape).concat(values, 1);
            release(values, x);
            values = withValues;
        }
        // one scaled_dot_product_attention: heads split and merged inside, scores scaled through q as PyTorch does,
        // and libtorch's fused kernel whenever there is no dropout (prediction)
        NDArray context = ComputePrecision.current().attention(q, keys, values, config.numHeads(), maskBias,
                config.attentionDropout(), training);
        release(q, x);
        release(keys, x);
        release(values, x);

        NDArray attnDense = linears.get(TargetModule.ATTENTION_OUTPUT).apply(ps, context, training);
        release(context, attnDense);
        NDArray attnOut = TrainingDropout.apply(attnDense, config.hiddenDropout(), training);
        release(attnDense, attnOut);
        NDArray attnSum = attnOut.add(x);
        attnOut.close();
        NDArray a = layerNorm(attnSum, ps.getValue(attnLnWeight, device, training),
                ps.getValue(attnLnBias, device, training));
        attnSum.close();

        NDArray interDense = linears.get(TargetModule.INTERMEDIATE).apply(ps, a, training);
        NDArray inter = config.hiddenAct().apply(interDense);
        release(interDense, inter);
        NDArray outDense = linears.get(TargetModule.OUTPUT).apply(ps, inter, training);
        release(inter, outDense);
        NDArray out = TrainingDropout.apply(outDense, config.hiddenDropout(), training);
        release(outDense, out);
        NDArray outSum = out.add(a);
        out.close();
        release(a, outSum);
        NDArray result = layerNorm(outSum, ps.getValue(outLnWeight, device, training),
                ps.getValue(outLnBias, device, training));
        outSum.close();
        return result;
    }

    /** Closes our handle on a finished intermediate unless it is the very array that is still needed. */
    private static void release(NDArray finished, NDArray stillNeeded) {
        if (finished != stillNeeded) {
            finished.close();
        }
    }

    private NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta) {
        return LayerNorm.layerNorm(x, new Shape(config.hiddenSize()), gamma, beta, (float) config.layerNormEps())
                .singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
