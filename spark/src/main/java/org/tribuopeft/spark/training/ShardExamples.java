package org.tribuopeft.spark.training;

import org.apache.spark.sql.Row;
import org.tribuo.Example;
import org.tribuo.ImmutableDataset;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.io.Serializable;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * One shard's rows as a Tribuo dataset. Rows are put in a fixed order first (by text, then label): Spark may
 * deliver a shuffled partition's rows in any order, and the shard's own shuffle must start from the same list on
 * every attempt and in a one-machine replay. Every shard carries the whole run's label domain, built once on the
 * driver, so every replica builds the same head.
 */
final class ShardExamples {
    private static final OffsetDateTime EPOCH = OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

    /** The run's feature map (the one text feature) and label domain, shipped to every task. */
    record Domain(ImmutableFeatureMap features, ImmutableOutputInfo<Label> labels) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** The domain of {@code labels} (every label the data holds). */
        static Domain of(List<String> labels, String textField) {
            LabelFactory factory = new LabelFactory();
            List<Example<Label>> examples = new ArrayList<>();
            for (String l : labels) {
                examples.add(example(textField, "-", l));
            }
            MutableDataset<Label> ds = new MutableDataset<>(new ListDataSource<>(examples,
                    factory, new SimpleDataSourceProvenance("label domain", EPOCH, factory)));
            return new Domain(new ImmutableFeatureMap(ds.getFeatureMap()), ds.getOutputIDInfo());
        }
    }

    private ShardExamples() {}

    /** The rows (text, label) in the fixed shard order. */
    static List<Row> ordered(List<Row> rows) {
        List<Row> out = new ArrayList<>(rows);
        out.sort(Comparator.<Row, String>comparing(r -> r.getString(0)).thenComparing(r -> r.getString(1)));
        return out;
    }

    /** One labelled text example, as the plugin's trainers read it. */
    static Example<Label> example(String textField, String text, String label) {
        ArrayExample<Label> e = new ArrayExample<>(new Label(label), Map.of(textField, text));
        e.add(TextPresenceProcessor.FEATURE, 1.0);
        return e;
    }

    /** The dataset of already ordered (text, label) rows, under {@code description}. */
    static ImmutableDataset<Label> dataset(List<Row> ordered, Domain domain, String textField, String description) {
        LabelFactory factory = new LabelFactory();
        List<Example<Label>> examples = new ArrayList<>(ordered.size());
        for (Row r : ordered) {
            examples.add(example(textField, r.getString(0), r.getString(1)));
        }
        return new ImmutableDataset<>(examples, new SimpleDataSourceProvenance(description, EPOCH, factory), factory,
                domain.features(), domain.labels(), false);
    }
}
