package org.tribuopeft.plugin;

import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.multilabel.MultiLabelFactory;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.train.TaskKind;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Rebuilds a Tribuo output domain whose ids follow a head's row order (for models not trained in this JVM). */
final class HeadOutputs {
    private HeadOutputs() {}

    /**
     * The domain for a head.
     *
     * @param task the head's task
     * @param names output names in head row order (labels, or regression dimension names)
     */
    @SuppressWarnings("unchecked")
    static <T extends Output<T>> ImmutableOutputInfo<T> domain(TaskKind task, List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("the head has no outputs to name");
        }
        return switch (task) {
            case SINGLE_LABEL -> {
                Map<Label, Integer> m = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    m.put(new Label(names.get(i)), i);
                }
                yield (ImmutableOutputInfo<T>) new LabelFactory().constructInfoForExternalModel(m);
            }
            case MULTI_LABEL -> {
                Map<MultiLabel, Integer> m = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    m.put(new MultiLabel(names.get(i)), i);
                }
                yield (ImmutableOutputInfo<T>) new MultiLabelFactory().constructInfoForExternalModel(m);
            }
            case REGRESSION -> {
                Map<Regressor, Integer> m = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    m.put(new Regressor(names.get(i), Double.NaN), i);
                }
                yield (ImmutableOutputInfo<T>) new RegressionFactory().constructInfoForExternalModel(m);
            }
        };
    }

    /** The output names of a domain in id order (regression: dimension names). */
    static <T extends Output<T>> List<String> names(ImmutableOutputInfo<T> info) {
        String[] out = new String[info.size()];
        for (int i = 0; i < out.length; i++) {
            T o = info.getOutput(i);
            out[i] = o instanceof Regressor r ? r.getNames()[0] : o.getSerializableForm(false);
        }
        return List.of(out);
    }
}
