package org.tribuopeft.spark.scoring;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code spark-submit} entry point: reads a table (Parquet, JSON lines or CSV with a header), scores every row
 * with the adapter its adapter-id column names, and writes the table with the prediction column added as Parquet or
 * JSON lines. Options:
 * {@code --input PATH --adapters DIR[,DIR...] --output PATH [--input-format parquet|json|csv]
 * [--output-format parquet|json] [--text-column text] [--adapter-column adapter] [--output-column prediction]
 * [--peft-base NAME|FOLDER] [--batch-size 64]}.
 */
public final class ScoreTableJob {
    private static final Set<String> OPTIONS = Set.of("--input", "--adapters", "--output", "--input-format",
            "--output-format", "--text-column", "--adapter-column", "--output-column", "--peft-base", "--batch-size");

    private ScoreTableJob() {}

    /** Runs the job in the session spark-submit configured (master, executors, JVM options). */
    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("tribuo-peft scoring").getOrCreate();
        try {
            run(spark, args);
        } finally {
            spark.stop();
        }
    }

    /**
     * Scores the input table into the output path.
     *
     * @return the number of rows written
     * @throws IllegalArgumentException naming an unknown or missing option, or an option value that is not allowed
     */
    public static long run(SparkSession spark, String[] args) {
        Map<String, String> o = parse(args);
        String input = required(o, "--input");
        String output = required(o, "--output");
        List<String> folders = Arrays.asList(required(o, "--adapters").split(","));
        String inputFormat = oneOf(o, "--input-format", "parquet", List.of("parquet", "json", "csv"));
        String outputFormat = oneOf(o, "--output-format", "parquet", List.of("parquet", "json"));
        AdapterScorer scorer = AdapterScorer.fromFolders(folders, o.get("--peft-base"))
                .withTextColumn(o.getOrDefault("--text-column", AdapterScorer.DEFAULT_TEXT_COLUMN))
                .withAdapterColumn(o.getOrDefault("--adapter-column", AdapterScorer.DEFAULT_ADAPTER_COLUMN))
                .withOutputColumn(o.getOrDefault("--output-column", AdapterScorer.DEFAULT_OUTPUT_COLUMN))
                .withBatchSize(batchSize(o));
        Dataset<Row> rows = "csv".equals(inputFormat)
                ? spark.read().option("header", "true").option("multiLine", "true").csv(input)
                : spark.read().format(inputFormat).load(input);
        scorer.score(rows).write().mode(SaveMode.ErrorIfExists).format(outputFormat).save(output);
        return spark.read().format(outputFormat).load(output).count();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!OPTIONS.contains(args[i])) {
                throw new IllegalArgumentException("unknown option '" + args[i] + "'; the options are "
                        + OPTIONS.stream().sorted().toList());
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            o.put(args[i], args[++i]);
        }
        return o;
    }

    private static String required(Map<String, String> o, String option) {
        String v = o.get(option);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(option + " is required");
        }
        return v;
    }

    private static String oneOf(Map<String, String> o, String option, String dflt, List<String> allowed) {
        String v = o.getOrDefault(option, dflt);
        if (!allowed.contains(v)) {
            throw new IllegalArgumentException(option + " must be one of " + allowed + ", got '" + v + "'");
        }
        return v;
    }

    private static int batchSize(Map<String, String> o) {
        String v = o.getOrDefault("--batch-size", Integer.toString(AdapterScorer.DEFAULT_BATCH_SIZE));
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--batch-size must be a whole number of rows, got '" + v + "'", e);
        }
    }
}
