package org.tribuopeft.spark.scoring;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two adapters trained briefly on the real all-MiniLM-L6-v2 (once per test JVM), saved in the two Tribuo layouts of
 * an adapter folder, and the rows and local predictions the scoring tests compare against.
 */
final class ScoringFixtures {
    /** The bundled base both adapters are trained on. */
    static final String BASE = "all-minilm-l6-v2";

    private static Map<String, AdapterModel<Label>> models;
    private static Path folder;

    private ScoringFixtures() {}

    /** Adapter id to trained model: "support" (LoRA on query/value) and "sales" (DoRA on value). */
    static synchronized Map<String, AdapterModel<Label>> models() {
        if (models == null) {
            Map<String, AdapterModel<Label>> m = new LinkedHashMap<>();
            m.put("support", train(new LoraConfig(4, 8, 0.0, List.of("query", "value")), 1));
            m.put("sales", train(new DoraConfig(2, 4, 0.0, List.of("value")), 2));
            models = m;
        }
        return models;
    }

    /** A folder holding {@code support.tribuo} and {@code sales/model.tribuo}. */
    static synchronized Path folder() {
        if (folder == null) {
            try {
                Path dir = Files.createTempDirectory("spark-scoring-adapters");
                models().get("support").serializeToFile(dir.resolve("support.tribuo"));
                models().get("sales").serializeToFile(Files.createDirectories(dir.resolve("sales"))
                        .resolve("model.tribuo"));
                folder = dir;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return folder;
    }

    private static void delete(Path dir) {
        try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }

    private static AdapterModel<Label> train(AdapterMethod method, long seed) {
        MutableDataset<Label> ds = new MutableDataset<>(new SimpleDataSourceProvenance("synthetic",
                OffsetDateTime.parse("2026-01-01T00:00:00Z"), new LabelFactory()), new LabelFactory());
        for (LabelledText t : SyntheticTexts.twoClass(16, seed)) {
            ds.add(example(t.text(), t.target()[1] > 0 ? "neg" : "pos"));
        }
        // one epoch of two steps: enough to move the adapters and heads apart from each other
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(method).backbone(BASE).maxLength(32).batchSize(8)
                .epochs(1).minSteps(0).learningRate(5e-3).seed(seed).progressSeconds(0).build();
        return trainer.train(ds);
    }

    /** A Tribuo example holding {@code text} where the models read it. */
    static ArrayExample<Label> example(String text, String label) {
        ArrayExample<Label> e = new ArrayExample<>(new Label(label), Map.of("text", text));
        e.add(TextPresenceProcessor.FEATURE, 1.0);
        return e;
    }

    /** Texts to score, of varied lengths. */
    static List<String> texts(int n) {
        List<String> out = new ArrayList<>();
        for (LabelledText t : SyntheticTexts.twoClass(n, 99)) {
            out.add(t.text());
        }
        return out;
    }

    /** Rows (id, text, adapter) with adapters taking turns, in {@code partitions} partitions. */
    static Dataset<Row> rows(SparkSession spark, List<String> texts, List<String> adapters, int partitions) {
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false)
                .add("text", DataTypes.StringType, true).add("adapter", DataTypes.StringType, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i), adapters.get(i % adapters.size())));
        }
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    /**
     * The largest |difference| between scored rows and each row's adapter's local {@code predict}, after checking
     * that every row is present and its predicted label equals the local one.
     */
    static double maxDiffFromLocalPredict(List<Row> scored, List<String> texts, String outputColumn) {
        if (scored.size() != texts.size()) {
            throw new AssertionError("scored " + scored.size() + " rows of " + texts.size());
        }
        double worst = 0;
        for (Row r : scored) {
            int id = ((Number) r.get(r.fieldIndex("id"))).intValue();
            AdapterModel<Label> model = models().get(r.getString(r.fieldIndex("adapter")));
            Prediction<Label> local = model.predict(example(texts.get(id), "pos"));
            Row p = r.getStruct(r.fieldIndex(outputColumn));
            if (!local.getOutput().getLabel().equals(p.getString(0))) {
                throw new AssertionError("row " + id + ": Spark predicted " + p.getString(0) + ", local predict "
                        + local.getOutput().getLabel());
            }
            Map<String, Double> scores = p.getJavaMap(1);
            if (!scores.keySet().equals(local.getOutputScores().keySet())) {
                throw new AssertionError("row " + id + ": scores for " + scores.keySet() + ", local predict has "
                        + local.getOutputScores().keySet());
            }
            for (Map.Entry<String, Label> s : local.getOutputScores().entrySet()) {
                worst = Math.max(worst, Math.abs(s.getValue().getScore() - scores.get(s.getKey())));
            }
        }
        return worst;
    }

    /** The messages of an exception and all its causes, joined, as the driver sees them. */
    static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            b.append(c).append('\n');
        }
        return b.toString();
    }
}
