package org.tribuopeft.plugin.outputs;

import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.train.TaskKind;

import java.util.LinkedHashMap;
import java.util.Map;

/** Single-label classification: a softmax head with one output per label id. */
public final class LabelOutputs implements TaskOutputs<Label> {
    @Override
    public TaskKind task() {
        return TaskKind.SINGLE_LABEL;
    }

    @Override
    public int width(ImmutableOutputInfo<Label> info) {
        return info.size();
    }

    @Override
    public float[] target(Label output, ImmutableOutputInfo<Label> info) {
        int id = info.getID(output);
        if (id < 0) {
            throw new IllegalArgumentException("label '" + output.getLabel() + "' is not in the output domain "
                    + info.getDomain());
        }
        float[] row = new float[info.size()];
        row[id] = 1f;
        return row;
    }

    @Override
    public Prediction<Label> prediction(float[] row, ImmutableOutputInfo<Label> info, Example<Label> example) {
        Map<String, Label> scores = new LinkedHashMap<>();
        Label best = null;
        for (int i = 0; i < row.length; i++) {
            Label l = new Label(info.getOutput(i).getLabel(), row[i]);
            scores.put(l.getLabel(), l);
            if (best == null || l.getScore() > best.getScore()) {
                best = l;
            }
        }
        return new Prediction<>(best, scores, example.size(), example, true);
    }

    @Override
    public boolean generatesProbabilities() {
        return true;
    }
}
