package org.tribuopeft.spark.scoring;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.tribuopeft.plugin.AdapterModel;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Adds a prediction column to a {@code Dataset<Row>} that has a text column and an adapter-id column, each row
 * scored by the adapter it names. On each executor JVM the pretrained base is loaded once and shared by every
 * adapter and task; a partition is predicted in mixed-adapter batches of {@link #batchSize()} rows, and each result
 * equals that adapter's own {@code AdapterModel.predict} up to float rounding.
 * <p>
 * The new column ({@link #predictionType()}) is a struct of {@code output} (the predicted output as one string:
 * the label; the names of the labels above 0.5, sorted and comma-separated, for multi-label; {@code name=value}
 * pairs for regression) and {@code scores} (the head's value per output name: the probability of each label, or
 * each regression value).
 * <pre>{@code
 * Dataset<Row> scored = AdapterScorer.fromFolders(List.of("/shared/adapters"))
 *         .withTextColumn("review").withAdapterColumn("tenant").score(reviews);
 * }</pre>
 * Immutable; the {@code with*} methods return a changed copy.
 */
public final class AdapterScorer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The text column read unless {@link #withTextColumn} says otherwise. */
    public static final String DEFAULT_TEXT_COLUMN = "text";
    /** The adapter-id column read unless {@link #withAdapterColumn} says otherwise. */
    public static final String DEFAULT_ADAPTER_COLUMN = "adapter";
    /** The column added unless {@link #withOutputColumn} says otherwise. */
    public static final String DEFAULT_OUTPUT_COLUMN = "prediction";
    /** Rows per forward pass unless {@link #withBatchSize} says otherwise (as {@code MultiAdapterModel}). */
    public static final int DEFAULT_BATCH_SIZE = 64;

    private final AdapterSource source;
    private final String textColumn;
    private final String adapterColumn;
    private final String outputColumn;
    private final int batchSize;

    private AdapterScorer(AdapterSource source, String textColumn, String adapterColumn, String outputColumn,
                          int batchSize) {
        this.source = source;
        this.textColumn = textColumn;
        this.adapterColumn = adapterColumn;
        this.outputColumn = outputColumn;
        this.batchSize = batchSize;
    }

    /**
     * Scores with adapters that each executor reads from shared storage: folders every executor sees at the same
     * path, holding {@code ID.tribuo}, {@code ID/model.tribuo} or PEFT folders {@code ID/} (read only when
     * {@code peftBase} is given). Each executor reads only the adapters its rows name.
     *
     * @param folders the adapter folders, searched in order
     * @param peftBase the base PEFT folders are loaded on (a bundled name, HF folder or .onnx file), or null
     * @throws IllegalArgumentException naming a folder that does not exist here on the driver
     */
    public static AdapterScorer fromFolders(List<String> folders, String peftBase) {
        FolderAdapterSource source = new FolderAdapterSource(folders, peftBase);
        source.check();
        return from(source);
    }

    /** As {@link #fromFolders(List, String)} for folders holding Tribuo model files only. */
    public static AdapterScorer fromFolders(List<String> folders) {
        return fromFolders(folders, null);
    }

    /**
     * Scores with adapter models the driver holds: each is serialized once (Tribuo protobuf) and broadcast, and an
     * executor deserializes an adapter the first time one of its rows names it.
     *
     * @param spark the session whose executors will score
     * @param models adapter id to model
     * @throws IllegalArgumentException when no model is given
     */
    public static AdapterScorer fromModels(SparkSession spark, Map<String, ? extends AdapterModel<?>> models) {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("no adapter models given to broadcast");
        }
        Map<String, byte[]> bytes = new HashMap<>();
        models.forEach((id, m) -> bytes.put(id, m.serialize().toByteArray()));
        Broadcast<Map<String, byte[]>> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(bytes);
        return from(new BroadcastAdapterSource(b));
    }

    /** Scores with adapters from any source (for storage this library does not read itself). */
    public static AdapterScorer from(AdapterSource source) {
        return new AdapterScorer(source, DEFAULT_TEXT_COLUMN, DEFAULT_ADAPTER_COLUMN, DEFAULT_OUTPUT_COLUMN,
                DEFAULT_BATCH_SIZE);
    }

    /** A copy that reads each row's text from {@code column} (a string column). */
    public AdapterScorer withTextColumn(String column) {
        return new AdapterScorer(source, nonBlank("text column", column), adapterColumn, outputColumn, batchSize);
    }

    /** A copy that reads each row's adapter id from {@code column} (a string column). */
    public AdapterScorer withAdapterColumn(String column) {
        return new AdapterScorer(source, textColumn, nonBlank("adapter column", column), outputColumn, batchSize);
    }

    /** A copy that writes the prediction struct to {@code column}, which must not exist yet. */
    public AdapterScorer withOutputColumn(String column) {
        return new AdapterScorer(source, textColumn, adapterColumn, nonBlank("output column", column), batchSize);
    }

    /**
     * A copy that predicts {@code rows} rows per forward pass (more uses more memory per task).
     *
     * @throws IllegalArgumentException when {@code rows} is not positive
     */
    public AdapterScorer withBatchSize(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("batch size must be at least 1 row, got " + rows);
        }
        return new AdapterScorer(source, textColumn, adapterColumn, outputColumn, rows);
    }

    /** The column texts are read from. */
    public String textColumn() {
        return textColumn;
    }

    /** The column adapter ids are read from. */
    public String adapterColumn() {
        return adapterColumn;
    }

    /** The column predictions are written to. */
    public String outputColumn() {
        return outputColumn;
    }

    /** Rows per forward pass. */
    public int batchSize() {
        return batchSize;
    }

    /** Where executors find adapters. */
    public AdapterSource source() {
        return source;
    }

    /**
     * The type of the prediction column: {@code struct<output: string, scores: map<string, double>>}.
     */
    public static StructType predictionType() {
        return new StructType(new StructField[] {
                DataTypes.createStructField("output", DataTypes.StringType, false),
                DataTypes.createStructField("scores",
                        DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false)});
    }

    /**
     * The schema {@link #score} returns for an input schema: the input's columns and the prediction column.
     *
     * @throws IllegalArgumentException when the text or adapter column is missing or not a string column (naming
     *     it and the columns that exist), or when the output column already exists
     */
    public StructType outputSchema(StructType input) {
        check(input, textColumn, "text");
        check(input, adapterColumn, "adapter");
        if (Arrays.asList(input.fieldNames()).contains(outputColumn)) {
            throw new IllegalArgumentException("output column '" + outputColumn + "' already exists; choose another "
                    + "with withOutputColumn (the columns are " + Arrays.toString(input.fieldNames()) + ")");
        }
        return input.add(outputColumn, predictionType(), false);
    }

    /**
     * Adds the prediction column. Lazy, as any Spark transformation: the work, and any error about a row, happens
     * when an action runs. A row whose adapter id names no adapter, or whose text or id is null, fails the job
     * with an {@link AdapterScoringException} naming the row (its index within its partition), the id and the
     * adapter source; Spark reports that message in the exception the driver sees.
     *
     * @throws IllegalArgumentException at once, on the driver, for the schema problems {@link #outputSchema} names
     */
    public Dataset<Row> score(Dataset<Row> rows) {
        StructType out = outputSchema(rows.schema());
        PartitionScorer scorer = new PartitionScorer(source, rows.schema().fieldIndex(textColumn),
                rows.schema().fieldIndex(adapterColumn), textColumn, adapterColumn, batchSize);
        return rows.mapPartitions(scorer, Encoders.row(out));
    }

    private static void check(StructType schema, String column, String role) {
        String[] names = schema.fieldNames();
        if (!Arrays.asList(names).contains(column)) {
            throw new IllegalArgumentException("the " + role + " column '" + column + "' is not in the dataset; its "
                    + "columns are " + Arrays.toString(names) + " (choose the column with with"
                    + Character.toUpperCase(role.charAt(0)) + role.substring(1) + "Column)");
        }
        StructField f = schema.apply(column);
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the " + role + " column '" + column + "' holds " + f.dataType()
                    .simpleString() + ", not strings; cast it to string first");
        }
    }

    private static String nonBlank(String what, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must be a column name, got '" + value + "'");
        }
        return value;
    }
}
