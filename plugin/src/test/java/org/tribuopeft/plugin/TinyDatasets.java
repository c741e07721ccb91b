package org.tribuopeft.plugin;

import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.multilabel.MultiLabelFactory;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.train.LabelledText;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Small Tribuo datasets over the synthetic two-class texts, for Label, Regressor and MultiLabel outputs. */
final class TinyDatasets {
    static final OffsetDateTime TIME = OffsetDateTime.parse("2026-01-01T00:00:00Z");

    private TinyDatasets() {}

    static <T extends Output<T>> MutableDataset<T> dataset(String name, OutputFactory<T> factory, int n, long seed,
                                                        Function<Integer, T> output) {
        MutableDataset<T> ds = new MutableDataset<>(new SimpleDataSourceProvenance(name, TIME, factory), factory);
        for (Example<T> e : examples(n, seed, output)) {
            ds.add(e);
        }
        return ds;
    }

    static <T extends Output<T>> List<Example<T>> examples(int n, long seed, Function<Integer, T> output) {
        List<Example<T>> out = new ArrayList<>();
        for (LabelledText t : SyntheticTexts.twoClass(n, seed)) {
            int cls = t.target()[1] > 0 ? 1 : 0;
            ArrayExample<T> e = new ArrayExample<>(output.apply(cls), Map.of("text", t.text()));
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            out.add(e);
        }
        return out;
    }

    static Label label(int cls) {
        return new Label(cls == 0 ? "pos" : "neg");
    }

    static Regressor regressor(int cls) {
        return new Regressor(new String[] {"score", "length"}, new double[] {cls == 0 ? 1.0 : -1.0, cls * 0.5 + 0.25});
    }

    static MultiLabel multiLabel(int cls) {
        return cls == 0 ? new MultiLabel(java.util.Set.of(new Label("pos"), new Label("bright"))) : new MultiLabel("neg");
    }

    static MutableDataset<Label> labels(int n, long seed) {
        return dataset("tiny-labels", new LabelFactory(), n, seed, TinyDatasets::label);
    }

    static MutableDataset<Regressor> regression(int n, long seed) {
        return dataset("tiny-regression", new RegressionFactory(), n, seed, TinyDatasets::regressor);
    }

    static MutableDataset<MultiLabel> multiLabels(int n, long seed) {
        return dataset("tiny-multilabel", new MultiLabelFactory(), n, seed, TinyDatasets::multiLabel);
    }
}
