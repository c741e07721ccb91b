package org.tribuopeft.plugin;

import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a pipeline's data before any training, so that a fault in the test data does not throw away a
 * trained model: every example has a text, no label is blank, and the test data names no output the
 * training data lacks. Each failure names the example's source file and line when the data source
 * recorded them.
 */
final class TextDataCheck {
    private TextDataCheck() {}

    /**
     * Checks the training and test data together.
     *
     * @param train the training data
     * @param test the test data
     * @param textField the metadata key of the text
     * @param split whether both come from one source split by a seeded fraction, which changes what the user can do
     * @throws IllegalArgumentException naming the first example at fault and what to do
     */
    static <T extends Output<T>> void check(Dataset<T> train, Dataset<T> test, String textField, boolean split) {
        checkExamples("training data", train, textField);
        checkExamples("test data", test, textField);
        Set<String> known = new TreeSet<>();
        for (Example<T> e : train) {
            known.addAll(outputNames(e.getOutput()));
        }
        checkKnownOutputs(test, known, "no training example has", "training", split
                ? "the random split put every example of it in the test data: add examples of it, or change the "
                        + "pipeline's splitSeed or trainFraction"
                : "add examples of it to the training data or remove the row from the test data");
    }

    /**
     * Checks that test data names only outputs a trained model has: evaluating it on others would count
     * every such example as an error the model could never avoid.
     *
     * @param test the test data
     * @param model the model to be evaluated
     * @throws IllegalArgumentException naming the first example with an output the model lacks
     */
    static <T extends Output<T>> void checkAgainstModel(Dataset<T> test, Model<T> model) {
        Set<String> known = new TreeSet<>();
        for (T o : model.getOutputIDInfo().getDomain()) {
            known.addAll(outputNames(o));
        }
        checkKnownOutputs(test, known, "the model cannot predict", "model", "evaluate it on test data with the "
                + "model's outputs, or train a model that has them");
    }

    private static <T extends Output<T>> void checkKnownOutputs(Dataset<T> test, Set<String> known, String why,
                                                                String whose, String todo) {
        int index = 0;
        for (Example<T> e : test) {
            List<String> unseen = new ArrayList<>(outputNames(e.getOutput()));
            unseen.removeAll(known);
            if (!unseen.isEmpty()) {
                String what = e.getOutput() instanceof Regressor ? "target dimension" : "label";
                String intro = whose.equals("training") ? "; a model cannot predict what it never saw: " : "; ";
                throw new IllegalArgumentException("test data: " + TextExamples.where(e, index) + " has " + what + " '"
                        + String.join("', '", unseen) + "', which " + why + " (" + whose + " " + what + "s: " + known
                        + ")" + intro + todo);
            }
            index++;
        }
    }

    /**
     * Checks one dataset on its own: not empty, every example with a non-blank text and a non-blank label.
     *
     * @param role what the data is, for messages ("training data", "test data")
     * @param data the examples
     * @param textField the metadata key of the text
     */
    static <T extends Output<T>> void checkExamples(String role, Dataset<T> data, String textField) {
        if (data.size() == 0) {
            throw new IllegalArgumentException(role + " has no examples; check the data source and the pipeline's "
                    + "trainFraction");
        }
        int index = 0;
        for (Example<T> e : data) {
            try {
                TextExamples.text(e, textField, index);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(role + ": " + ex.getMessage(), ex);
            }
            if (outputNames(e.getOutput()).stream().anyMatch(String::isBlank)) {
                throw new IllegalArgumentException(role + ": " + TextExamples.where(e, index) + " has a blank label; "
                        + "fill it in or remove the row (a blank cell read with defaultValue \"\" becomes a class of "
                        + "its own)");
            }
            index++;
        }
    }

    private static List<String> outputNames(Output<?> output) {
        if (output instanceof Label l) {
            return List.of(l.getLabel());
        }
        if (output instanceof MultiLabel m) {
            return new ArrayList<>(m.getNameSet());
        }
        if (output instanceof Regressor r) {
            return Arrays.asList(r.getNames());
        }
        return List.of();
    }
}
