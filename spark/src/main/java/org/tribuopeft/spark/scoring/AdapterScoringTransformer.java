package org.tribuopeft.spark.scoring;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/**
 * {@link AdapterScorer} as a Spark ML {@link Transformer}, so scoring is a stage of a {@code Pipeline} and is saved
 * and loaded with it: {@code new AdapterScoringTransformer().setAdapterFolders(new String[] {"/shared/adapters"})
 * .setTextCol("review").transform(df)}. Reads adapters from shared folders (its parameters are plain values that a
 * saved pipeline keeps); for broadcast models use {@link AdapterScorer#fromModels} directly.
 */
public final class AdapterScoringTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> textCol;
    private final Param<String> adapterCol;
    private final Param<String> outputCol;
    private final StringArrayParam adapterFolders;
    private final Param<String> peftBase;
    private final IntParam batchSize;

    /** A transformer with a fresh uid and the defaults of {@link AdapterScorer}; adapter folders must be set. */
    public AdapterScoringTransformer() {
        this(Identifiable$.MODULE$.randomUID("adapterScorer"));
    }

    /** A transformer with the given uid (Spark uses this constructor to copy and load stages). */
    public AdapterScoringTransformer(String uid) {
        this.uid = uid;
        textCol = new Param<>(this, "textCol", "the string column holding each row's text");
        adapterCol = new Param<>(this, "adapterCol", "the string column holding each row's adapter id");
        outputCol = new Param<>(this, "outputCol", "the column to add: struct<output: string, scores: map<string, "
                + "double>>");
        adapterFolders = new StringArrayParam(this, "adapterFolders", "folders every executor reads adapters from "
                + "(ID.tribuo, ID/model.tribuo or PEFT folders ID/), searched in order; mandatory");
        peftBase = new Param<>(this, "peftBase", "the base PEFT folders are loaded on (a bundled name, folder or "
                + ".onnx file); empty when the folders hold Tribuo model files only");
        batchSize = new IntParam(this, "batchSize", "rows per forward pass", ParamValidators.gtEq(1));
        setDefault(textCol, AdapterScorer.DEFAULT_TEXT_COLUMN);
        setDefault(adapterCol, AdapterScorer.DEFAULT_ADAPTER_COLUMN);
        setDefault(outputCol, AdapterScorer.DEFAULT_OUTPUT_COLUMN);
        setDefault(peftBase, "");
        setDefault(batchSize, AdapterScorer.DEFAULT_BATCH_SIZE);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The text column parameter. */
    public Param<String> textCol() {
        return textCol;
    }

    /** The adapter-id column parameter. */
    public Param<String> adapterCol() {
        return adapterCol;
    }

    /** The output column parameter. */
    public Param<String> outputCol() {
        return outputCol;
    }

    /** The adapter folders parameter. */
    public StringArrayParam adapterFolders() {
        return adapterFolders;
    }

    /** The PEFT base parameter. */
    public Param<String> peftBase() {
        return peftBase;
    }

    /** The batch size parameter. */
    public IntParam batchSize() {
        return batchSize;
    }

    /** Sets the text column. */
    public AdapterScoringTransformer setTextCol(String column) {
        set(textCol, column);
        return this;
    }

    /** Sets the adapter-id column. */
    public AdapterScoringTransformer setAdapterCol(String column) {
        set(adapterCol, column);
        return this;
    }

    /** Sets the output column. */
    public AdapterScoringTransformer setOutputCol(String column) {
        set(outputCol, column);
        return this;
    }

    /** Sets the folders adapters are read from. */
    public AdapterScoringTransformer setAdapterFolders(String[] folders) {
        set(adapterFolders, folders);
        return this;
    }

    /** Sets the base PEFT folders are loaded on. */
    public AdapterScoringTransformer setPeftBase(String base) {
        set(peftBase, base);
        return this;
    }

    /** Sets the rows per forward pass. */
    public AdapterScoringTransformer setBatchSize(int rows) {
        set(batchSize, rows);
        return this;
    }

    /**
     * The scorer these parameters describe.
     *
     * @throws IllegalArgumentException when no adapter folder is set, or one does not exist
     */
    public AdapterScorer scorer() {
        if (!isDefined(adapterFolders) || getOrDefault(adapterFolders).length == 0) {
            throw new IllegalArgumentException("AdapterScoringTransformer " + uid + " has no adapterFolders; set them "
                    + "with setAdapterFolders");
        }
        String base = getOrDefault(peftBase);
        return AdapterScorer.fromFolders(Arrays.asList(getOrDefault(adapterFolders)), base.isEmpty() ? null : base)
                .withTextColumn(getOrDefault(textCol)).withAdapterColumn(getOrDefault(adapterCol))
                .withOutputColumn(getOrDefault(outputCol)).withBatchSize((Integer) getOrDefault(batchSize));
    }

    /** Adds the prediction column, as {@link AdapterScorer#score}. */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        return scorer().score(dataset.toDF());
    }

    /** The input schema with the prediction column, checking the columns as {@link AdapterScorer#outputSchema}. */
    @Override
    public StructType transformSchema(StructType schema) {
        return scorer().outputSchema(schema);
    }

    @Override
    public AdapterScoringTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** The reader Spark's {@code Pipeline} and {@code PipelineModel} loading call. */
    public static MLReader<AdapterScoringTransformer> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a transformer saved with {@code write().save(path)}. */
    public static AdapterScoringTransformer load(String path) {
        return read().load(path);
    }
}
