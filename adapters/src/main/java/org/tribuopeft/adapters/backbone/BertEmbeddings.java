package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.engine.TrainingDropout;

/**
 * BERT's input embeddings: word + absolute position + token type, then LayerNorm and dropout.
 * Parameters are named as in Hugging Face ({@code word_embeddings.weight}, {@code LayerNorm.bias}, ...).
 */
public final class BertEmbeddings extends NamedBlock {
    private final BertConfig config;
    private final Parameter words;
    private final Parameter positions;
    private final Parameter tokenTypes;
    private final Parameter lnWeight;
    private final Parameter lnBias;

    BertEmbeddings(BertConfig config, NDArray words, NDArray positions, NDArray tokenTypes, NDArray lnWeight,
                   NDArray lnBias) {
        this.config = config;
        this.words = addParameter("word_embeddings.weight", Parameter.Type.WEIGHT, words);
        this.positions = addParameter("position_embeddings.weight", Parameter.Type.WEIGHT, positions);
        this.tokenTypes = addParameter("token_type_embeddings.weight", Parameter.Type.WEIGHT, tokenTypes);
        this.lnWeight = addParameter("LayerNorm.weight", Parameter.Type.GAMMA, lnWeight);
        this.lnBias = addParameter("LayerNorm.bias", Parameter.Type.BETA, lnBias);
    }

    /**
     * Embeds a batch.
     *
     * @param ids [batch, tokens] int64 token ids
     * @param types [batch, tokens] int64 token types
     * @return [batch, tokens, hidden]
     */
    public NDArray embed(ParameterStore ps, NDArray ids, NDArray types, boolean training) {
        return embed(ps, ids, types, null, 0, training);
    }

    /**
     * Embeds a batch after virtual tokens: their embeddings come before each sequence's word embeddings, with
     * token type 0, and positions count from the first virtual token (as a Hugging Face model given
     * {@code inputs_embeds} with the virtual tokens prepended).
     *
     * @param ids [batch, tokens] int64 token ids
     * @param types [batch, tokens] int64 token types
     * @param virtual [count, hidden] virtual-token embeddings, or null for none
     * @param firstPosition the position of the first token (the length of an attention prefix, else 0)
     * @return [batch, count + tokens, hidden]
     */
    public NDArray embed(ParameterStore ps, NDArray ids, NDArray types, NDArray virtual, int firstPosition,
                         boolean training) {
        long batch = ids.getShape().get(0);
        long prefix = virtual == null ? 0 : virtual.getShape().get(0);
        long tokens = ids.getShape().get(1) + prefix;
        long positionsUsed = firstPosition + tokens;
        if (positionsUsed > config.maxPositions()) {
            throw new IllegalArgumentException("input has " + positionsUsed + " tokens" + (positionsUsed > ids.getShape().get(1)
                    ? " (" + (positionsUsed - ids.getShape().get(1)) + " of them virtual)" : "") + " but the model has only "
                    + config.maxPositions() + " positions; lower the maximum length");
        }
        var device = ids.getDevice();
        NDArray w = Embedding.embedding(ids, ps.getValue(words, device, training), SparseFormat.DENSE).singletonOrThrow();
        if (virtual != null) {
            w = virtual.expandDims(0).broadcast(batch, prefix, config.hiddenSize()).concat(w, 1);
            types = ids.getManager().zeros(new Shape(batch, prefix), DataType.INT64).concat(types, 1);
        }
        NDArray t = Embedding.embedding(types, ps.getValue(tokenTypes, device, training), SparseFormat.DENSE).singletonOrThrow();
        NDArray posIds = ids.getManager().arange(firstPosition, (int) positionsUsed, 1, DataType.INT64).expandDims(0);
        NDArray p = Embedding.embedding(posIds, ps.getValue(positions, device, training), SparseFormat.DENSE).singletonOrThrow();
        NDArray sum = w.add(t).add(p);
        NDArray normed = LayerNorm.layerNorm(sum, new Shape(config.hiddenSize()),
                ps.getValue(lnWeight, device, training), ps.getValue(lnBias, device, training),
                (float) config.layerNormEps()).singletonOrThrow();
        return TrainingDropout.apply(normed, config.hiddenDropout(), training);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(embed(ps, inputs.get(0), inputs.get(1), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.hiddenSize())};
    }
}
