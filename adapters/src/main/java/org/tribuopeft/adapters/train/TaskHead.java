package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.backbone.NamedBlock;
import org.tribuopeft.adapters.engine.TrainingDropout;
import org.tribuopeft.adapters.lora.LoraConfig;

import java.util.SplittableRandom;

/**
 * The trainable task head on the pooled sentence vector: dropout then one Linear to the outputs
 * (Hugging Face's {@code classifier}, PEFT's {@code modules_to_save}). Weights start N(0, 0.02²) as
 * BERT's {@code initializer_range}, biases at zero.
 */
public final class TaskHead extends NamedBlock {
    /** The head's module name, as in Hugging Face sequence-classification models. */
    public static final String MODULE_NAME = "classifier";

    private final Parameter weight;
    private final Parameter bias;
    private final double dropout;

    /**
     * Creates a head from existing arrays.
     *
     * @param weight [outputs, hidden]
     * @param bias [outputs]
     * @param dropout dropout on the pooled vector while training
     */
    public TaskHead(NDArray weight, NDArray bias, double dropout) {
        this.weight = addParameter("weight", Parameter.Type.WEIGHT, weight);
        this.bias = addParameter("bias", Parameter.Type.BIAS, bias);
        this.dropout = dropout;
    }

    /** A freshly initialised head. */
    public static TaskHead initialise(NDManager manager, int hidden, int outputs, double dropout, SplittableRandom rng) {
        return new TaskHead(LoraConfig.gaussian(manager, outputs, hidden, 0.02, rng), manager.zeros(new Shape(outputs)),
                dropout);
    }

    /** The weight, [outputs, hidden]. */
    public Parameter weight() {
        return weight;
    }

    /** The bias, [outputs]. */
    public Parameter bias() {
        return bias;
    }

    /** Number of outputs. */
    public int outputs() {
        return (int) weight.getArray().getShape().get(0);
    }

    /** Logits for pooled vectors [batch, hidden] → [batch, outputs]. */
    public NDArray apply(ParameterStore ps, NDArray pooled, boolean training) {
        NDArray x = TrainingDropout.apply(pooled, dropout, training);
        return Linear.linear(x, ps.getValue(weight, x.getDevice(), training), ps.getValue(bias, x.getDevice(), training))
                .singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), outputs())};
    }
}
