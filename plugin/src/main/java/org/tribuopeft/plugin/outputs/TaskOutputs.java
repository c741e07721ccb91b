package org.tribuopeft.plugin.outputs;

import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuo.OutputInfo;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.train.TaskKind;

/**
 * Connects a Tribuo output type to the task head: how wide the head is, what target row an output
 * becomes, and which prediction an activated output row means. Chosen from the output type, so a user
 * never configures it (as TensorFlowTrainer's output converters, but automatic).
 *
 * @param <T> the Tribuo output type
 */
public interface TaskOutputs<T extends Output<T>> {
    /** The head's task. */
    TaskKind task();

    /** The head's width for this output domain. */
    int width(ImmutableOutputInfo<T> info);

    /** The target row of one output, in the domain's id order. */
    float[] target(T output, ImmutableOutputInfo<T> info);

    /**
     * The prediction for one example.
     *
     * @param row the activated head output (probabilities or values), in id order
     * @param info the output domain
     * @param example the example predicted
     */
    Prediction<T> prediction(float[] row, ImmutableOutputInfo<T> info, Example<T> example);

    /** True when predictions carry probabilities. */
    boolean generatesProbabilities();

    /**
     * A predicted output as one string, for tables and logs (the Spark scoring column): a label's name,
     * {@code name=value} pairs for regression; multi-label overrides this with the label names.
     */
    default String text(T output) {
        return output.getSerializableForm(false);
    }

    /**
     * The outputs handler for a domain, by the type of its outputs.
     *
     * @throws IllegalArgumentException for output types other than Label, MultiLabel and Regressor
     */
    @SuppressWarnings("unchecked")
    static <T extends Output<T>> TaskOutputs<T> forDomain(OutputInfo<T> info) {
        if (info.size() == 0) {
            throw new IllegalArgumentException("the dataset has no outputs");
        }
        Output<?> first = info.getDomain().iterator().next();
        if (first instanceof Label) {
            return (TaskOutputs<T>) new LabelOutputs();
        } else if (first instanceof MultiLabel) {
            return (TaskOutputs<T>) new MultiLabelOutputs();
        } else if (first instanceof Regressor) {
            return (TaskOutputs<T>) new RegressorOutputs();
        }
        throw new IllegalArgumentException("output type " + first.getClass().getName() + " is not supported; "
                + "AdapterTrainer handles Label, MultiLabel and Regressor");
    }
}
