package org.tribuopeft.spark.scoring;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuo.impl.ArrayExample;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.MultiAdapterModel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows per second of Spark scoring on {@code local[N]} against the same rows through one local
 * {@link MultiAdapterModel#predict}, in alternating rounds after a warm-up of each (docs/benchmarks.md shows the
 * command). Arguments: rows, rounds, Spark master.
 */
public final class ScoringThroughput {
    private ScoringThroughput() {}

    /** Runs the comparison and prints one line per round and the medians. */
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String master = args.length > 2 ? args[2] : "local[2]";
        Map<String, AdapterModel<Label>> models = ScoringFixtures.models();
        String folder = ScoringFixtures.folder().toString();
        List<String> texts = ScoringFixtures.texts(n);
        List<String> ids = new ArrayList<>(models.keySet());

        List<Example<Label>> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> meta = new HashMap<>();
            meta.put("text", texts.get(i));
            meta.put("adapter", ids.get(i % ids.size()));
            ArrayExample<Label> e = new ArrayExample<>(new Label("pos"), meta);
            e.add(org.tribuopeft.plugin.TextPresenceProcessor.FEATURE, 1.0);
            examples.add(e);
        }
        MultiAdapterModel<Label> local = MultiAdapterModel.of("bench", new LinkedHashMap<>(models), "adapter");

        SparkSession spark = SparkSession.builder().master(master).appName("ScoringThroughput")
                .config("spark.ui.enabled", "false").getOrCreate();
        int partitions = spark.sparkContext().defaultParallelism();
        Dataset<Row> rows = ScoringFixtures.rows(spark, texts, ids, partitions).cache();
        rows.count();
        AdapterScorer scorer = AdapterScorer.fromFolders(List.of(folder));

        local.predict(examples.subList(0, Math.min(64, n)));
        scorer.score(rows.limit(64)).write().format("noop").mode("overwrite").save();
        List<Double> localRates = new ArrayList<>();
        List<Double> sparkRates = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            local.predict(examples);
            double localRate = n / ((System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            scorer.score(rows).write().format("noop").mode("overwrite").save();
            double sparkRate = n / ((System.nanoTime() - t0) / 1e9);
            localRates.add(localRate);
            sparkRates.add(sparkRate);
            System.out.printf("round %d: MultiAdapterModel.predict %.1f rows/s, Spark %s (%d partitions) %.1f rows/s%n",
                    r, localRate, master, partitions, sparkRate);
        }
        double l = median(localRates);
        double s = median(sparkRates);
        System.out.printf("median over %d rounds of %d rows (2 adapters, mixed): local %.1f rows/s, "
                + "Spark %s %.1f rows/s (%.2fx)%n", rounds, n, l, master, s, s / l);
        spark.stop();
        local.close();
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }
}
