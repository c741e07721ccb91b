package org.tribuopeft.spark.scoring;

import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Scoring on {@code local[2]}: every row equals its adapter's local predict, and bad input is named. */
class AdapterScorerTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        ScoringFixtures.folder(); // trains before Spark starts, so Spark's threads do not share the cores with it
        spark = SparkSession.builder().master("local[2]").appName("AdapterScorerTest")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void mixedAdapterPartitionsEqualEachAdaptersLocalPredict() {
        List<String> texts = ScoringFixtures.texts(24);
        Dataset<Row> rows = ScoringFixtures.rows(spark, texts, List.of("support", "sales"), 3);
        // batches of 5 put both adapters, and texts of different lengths, into each forward pass
        List<Row> scored = AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).withBatchSize(5)
                .score(rows).collectAsList();
        double worst = ScoringFixtures.maxDiffFromLocalPredict(scored, texts, "prediction");
        System.out.printf("Spark local[2] scoring vs AdapterModel.predict: max |diff| %.2e over %d rows%n", worst,
                scored.size());
        assertTrue(worst <= 1e-6, "Spark scores differ from local predict by " + worst);
        // the two adapters disagree, so routing each row to its own adapter is what made the scores equal
        Row first = scored.get(0);
        String other = first.getString(2).equals("support") ? "sales" : "support";
        double own = first.getStruct(3).<String, Double>getJavaMap(1).get("pos");
        double theirs = ScoringFixtures.models().get(other)
                .predict(ScoringFixtures.example(first.getString(1), "pos")).getOutputScores().get("pos").getScore();
        assertTrue(Math.abs(own - theirs) > 1e-4, "both adapters give " + own);
        assertEquals(1, ExecutorAdapters.baseLoads(), "the base is loaded once per JVM however many tasks score");
    }

    @Test
    void broadcastModelsScoreAsTheFolderDoes() {
        List<String> texts = ScoringFixtures.texts(12);
        Dataset<Row> rows = ScoringFixtures.rows(spark, texts, List.of("sales", "support", "support"), 2);
        List<Row> scored = AdapterScorer.fromModels(spark, ScoringFixtures.models()).withOutputColumn("scored")
                .score(rows).collectAsList();
        double worst = ScoringFixtures.maxDiffFromLocalPredict(scored, texts, "scored");
        assertTrue(worst <= 1e-6, "broadcast scores differ from local predict by " + worst);
        assertEquals(List.of("id", "text", "adapter", "scored"), List.of(scored.get(0).schema().fieldNames()));
        assertEquals(1, ExecutorAdapters.baseLoads(), "broadcast adapters share the base the folder's adapters use");
    }

    @Test
    void aMissingTextColumnIsNamedWithTheColumnsThatExist() {
        Dataset<Row> rows = ScoringFixtures.rows(spark, List.of("fine"), List.of("support"), 1)
                .withColumnRenamed("text", "review");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).score(rows));
        assertEquals("the text column 'text' is not in the dataset; its columns are [id, review, adapter] (choose the "
                + "column with withTextColumn)", e.getMessage());
        IllegalArgumentException adapter = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).withTextColumn("review")
                        .withAdapterColumn("tenant").score(rows));
        assertEquals("the adapter column 'tenant' is not in the dataset; its columns are [id, review, adapter] (choose "
                + "the column with withAdapterColumn)", adapter.getMessage());
        IllegalArgumentException taken = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).withTextColumn("review")
                        .withOutputColumn("id").score(rows));
        assertTrue(taken.getMessage().startsWith("output column 'id' already exists"), taken.getMessage());
    }

    @Test
    void aNonStringAdapterColumnIsRefused() {
        Dataset<Row> rows = ScoringFixtures.rows(spark, List.of("fine"), List.of("support"), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).withAdapterColumn("id")
                        .score(rows));
        assertEquals("the adapter column 'id' holds int, not strings; cast it to string first", e.getMessage());
    }

    @Test
    void anUnknownAdapterIdFailsTheJobNamingTheIdTheRowAndTheFolder() {
        String folder = ScoringFixtures.folder().toString();
        Dataset<Row> rows = ScoringFixtures.rows(spark, ScoringFixtures.texts(3), List.of("support"), 1)
                .coalesce(1).selectExpr("id", "text", "CASE WHEN id = 2 THEN 'hr' ELSE adapter END AS adapter")
                .orderBy("id");
        Exception e = assertThrows(Exception.class,
                () -> AdapterScorer.fromFolders(List.of(folder)).score(rows.coalesce(1)).collectAsList());
        String chain = ScoringFixtures.chain(e);
        assertTrue(chain.contains("AdapterScoringException: row 2 of partition 0 names adapter 'hr' in column "
                + "'adapter', which is not in the adapter folders [" + folder + "]"), chain);
    }

    @Test
    void theSubmitJobWritesTheScoredTable(@TempDir Path tmp) {
        List<String> texts = ScoringFixtures.texts(6);
        String input = tmp.resolve("in").toString();
        ScoringFixtures.rows(spark, texts, List.of("sales", "support"), 2).write().json(input);
        String output = tmp.resolve("out").toString();
        long written = ScoreTableJob.run(spark, new String[] {"--input", input, "--input-format", "json",
            "--adapters", ScoringFixtures.folder().toString(), "--output", output, "--batch-size", "4"});
        assertEquals(6, written);
        List<Row> scored = spark.read().parquet(output).collectAsList();
        assertTrue(ScoringFixtures.maxDiffFromLocalPredict(scored, texts, "prediction") <= 1e-6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScoreTableJob.run(spark, new String[] {"--input", input, "--adaptors", "x"}));
        assertTrue(e.getMessage().startsWith("unknown option '--adaptors'; the options are [--adapter-column, "
                + "--adapters,"), e.getMessage());
        IllegalArgumentException format = assertThrows(IllegalArgumentException.class,
                () -> ScoreTableJob.run(spark, new String[] {"--input", input, "--output", output, "--adapters",
                    ScoringFixtures.folder().toString(), "--output-format", "csv"}));
        assertEquals("--output-format must be one of [parquet, json], got 'csv'", format.getMessage());
    }

    @Test
    void aSavedPipelineWithTheTransformerScoresAsLocalPredict(@TempDir Path tmp) throws Exception {
        List<String> texts = ScoringFixtures.texts(8);
        Dataset<Row> rows = ScoringFixtures.rows(spark, texts, List.of("support", "sales"), 2)
                .withColumnRenamed("text", "review");
        AdapterScoringTransformer stage = new AdapterScoringTransformer().setTextCol("review").setOutputCol("p")
                .setAdapterFolders(new String[] {ScoringFixtures.folder().toString()}).setBatchSize(3);
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {stage}).fit(rows);
        String saved = tmp.resolve("pipeline").toString();
        fitted.write().save(saved);
        List<Row> scored = PipelineModel.load(saved).transform(rows).withColumnRenamed("review", "text")
                .collectAsList();
        assertTrue(ScoringFixtures.maxDiffFromLocalPredict(scored, texts, "p") <= 1e-6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AdapterScoringTransformer("s1").transformSchema(rows.schema()));
        assertEquals("AdapterScoringTransformer s1 has no adapterFolders; set them with setAdapterFolders",
                e.getMessage());
        IllegalArgumentException column = assertThrows(IllegalArgumentException.class,
                () -> new Pipeline().setStages(new PipelineStage[] {stage.copy(new ParamMap()).setTextCol("body")})
                        .fit(rows));
        assertTrue(column.getMessage().startsWith("the text column 'body' is not in the dataset"), column.getMessage());
    }

    @Test
    void aMissingAdapterFolderIsNamedOnTheDriver() {
        String missing = ScoringFixtures.folder().resolve("nowhere").toString();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromFolders(List.of(missing)));
        assertEquals("adapter folder '" + missing + "' does not exist or is not a folder", e.getMessage());
    }

    @Test
    void noModelsToBroadcastIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AdapterScorer.fromModels(spark, Map.of()));
        assertEquals("no adapter models given to broadcast", e.getMessage());
    }
}
