package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;

import java.util.Map;
import java.util.TreeSet;

/**
 * One prediction as a JSON object for {@code predict}'s output: {@code text}, {@code prediction} (a label,
 * a sorted array of labels, or an object of values by dimension name) and {@code scores} (numbers by label
 * or dimension name). A score that is not finite is refused, since it means the model is broken.
 */
final class PredictionJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PredictionJson() {}

    /**
     * The JSON line of one prediction.
     *
     * @param p the prediction
     * @param text the input text
     * @param where the input it came from, for errors (e.g. {@code "line 3 of in.txt"})
     * @throws NonFiniteScoreException when a score is NaN or infinite
     */
    static ObjectNode of(Prediction<?> p, String text, String where) {
        ObjectNode o = JSON.createObjectNode();
        o.put("text", text);
        Output<?> output = p.getOutput();
        if (output instanceof Label label) {
            o.put("prediction", label.getLabel());
            ObjectNode scores = o.putObject("scores");
            for (Map.Entry<String, ?> e : p.getOutputScores().entrySet()) {
                scores.put(e.getKey(), finite(((Label) e.getValue()).getScore(), e.getKey(), where));
            }
        } else if (output instanceof MultiLabel multi) {
            ArrayNode labels = o.putArray("prediction");
            new TreeSet<>(multi.getNameSet()).forEach(labels::add);
            ObjectNode scores = o.putObject("scores");
            for (Map.Entry<String, ?> e : p.getOutputScores().entrySet()) {
                double score = ((MultiLabel) e.getValue()).getLabelScore(new Label(e.getKey())).orElse(Double.NaN);
                scores.put(e.getKey(), finite(score, e.getKey(), where));
            }
        } else if (output instanceof Regressor r) {
            ObjectNode values = o.putObject("prediction");
            String[] names = r.getNames();
            double[] v = r.getValues();
            for (int i = 0; i < names.length; i++) {
                values.put(names[i], finite(v[i], names[i], where));
            }
            o.set("scores", values.deepCopy());
        } else {
            // an output type this tool does not train: its own text form, without invented scores
            o.put("prediction", output.getSerializableForm(false));
        }
        return o;
    }

    private static double finite(double value, String name, String where) {
        if (!Double.isFinite(value)) {
            throw new NonFiniteScoreException(where, name, value);
        }
        return value;
    }
}
