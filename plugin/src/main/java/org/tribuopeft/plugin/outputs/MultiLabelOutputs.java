package org.tribuopeft.plugin.outputs;

import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuopeft.adapters.train.TaskKind;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Multi-label classification: one sigmoid per label; a label is predicted at probability above 0.5. */
public final class MultiLabelOutputs implements TaskOutputs<MultiLabel> {
    /** The probability above which a label is predicted. */
    public static final double THRESHOLD = 0.5;

    @Override
    public TaskKind task() {
        return TaskKind.MULTI_LABEL;
    }

    @Override
    public int width(ImmutableOutputInfo<MultiLabel> info) {
        return info.size();
    }

    @Override
    public float[] target(MultiLabel output, ImmutableOutputInfo<MultiLabel> info) {
        float[] row = new float[info.size()];
        for (Label l : output.getLabelSet()) {
            int id = info.getID(new MultiLabel(l.getLabel()));
            if (id < 0) {
                throw new IllegalArgumentException("label '" + l.getLabel() + "' is not in the output domain");
            }
            row[id] = 1f;
        }
        return row;
    }

    @Override
    public Prediction<MultiLabel> prediction(float[] row, ImmutableOutputInfo<MultiLabel> info,
                                             Example<MultiLabel> example) {
        Map<String, MultiLabel> scores = new LinkedHashMap<>();
        Set<Label> predicted = new HashSet<>();
        for (int i = 0; i < row.length; i++) {
            String name = info.getOutput(i).getLabelString();
            Label scored = new Label(name, row[i]);
            if (row[i] > THRESHOLD) {
                predicted.add(scored);
            }
            scores.put(name, new MultiLabel(scored));
        }
        return new Prediction<>(new MultiLabel(predicted), scores, example.size(), example, true);
    }

    /** The predicted labels' names, sorted and comma-separated (empty when no label is predicted). */
    @Override
    public String text(MultiLabel output) {
        return output.getLabelString();
    }

    @Override
    public boolean generatesProbabilities() {
        return true;
    }
}
