package org.tribuopeft.spark.scoring;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.tribuopeft.spark.LocalClusters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scoring on two separate executor JVMs ({@code local-cluster[2,1,1024]}, started from the test classpath, no Spark
 * distribution): rows equal local predict, each executor loads the base once, and a row's error reaches the driver.
 * It runs in the default build (about 30 s on an idle 2-core machine, where two executor JVMs start and load PyTorch
 * and the base); {@code -Dspark.test.excludedGroups=spark-cluster} skips it.
 */
@Tag("spark-cluster")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class LocalClusterScoringTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        ScoringFixtures.folder();
        spark = LocalClusters.twoExecutors("LocalClusterScoringTest", 1024, 4);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void twoExecutorJvmsScoreAsLocalPredictAndEachLoadsTheBaseOnce() {
        AdapterScorer scorer = AdapterScorer.fromFolders(List.of(ScoringFixtures.folder().toString())).withBatchSize(4);
        List<String> texts = ScoringFixtures.texts(16);
        for (int job = 0; job < 2; job++) { // the second job finds the base and adapters already loaded
            List<Row> scored = scorer.score(ScoringFixtures.rows(spark, texts, List.of("support", "sales"), 4))
                    .collectAsList();
            double worst = ScoringFixtures.maxDiffFromLocalPredict(scored, texts, "prediction");
            System.out.printf("Spark local-cluster scoring (job %d) vs AdapterModel.predict: max |diff| %.2e%n", job,
                    worst);
            assertTrue(worst <= 1e-6, "executor scores differ from local predict by " + worst);
        }
        long driver = ProcessHandle.current().pid();
        Map<Long, Integer> loads = new HashMap<>();
        for (String s : spark.range(0, 8, 1, 8).mapPartitions(new JvmBaseLoads(), Encoders.STRING()).collectAsList()) {
            String[] parts = s.split(":");
            loads.put(Long.parseLong(parts[0]), Integer.parseInt(parts[1]));
        }
        assertTrue(loads.size() >= 2 && !loads.containsKey(driver), "executor JVMs " + loads + ", driver " + driver);
        assertTrue(loads.values().stream().allMatch(n -> n <= 1), "bases loaded per executor JVM: " + loads);
        assertTrue(loads.values().stream().anyMatch(n -> n == 1), "no executor loaded the base: " + loads);
    }

    @Test
    void anUnknownAdapterOnAnExecutorReachesTheDriverNamingIt() {
        String folder = ScoringFixtures.folder().toString();
        Dataset<Row> rows = ScoringFixtures.rows(spark, ScoringFixtures.texts(2), List.of("support", "legal"), 1);
        Exception e = assertThrows(Exception.class,
                () -> AdapterScorer.fromFolders(List.of(folder)).score(rows).collectAsList());
        String chain = ScoringFixtures.chain(e);
        // the exception crossed from the executor JVM to the driver with its class and message
        // (which row of the partition it is depends on the shuffle of repartition)
        assertTrue(chain.matches("(?s).*AdapterScoringException: row [01] of partition 0 names adapter 'legal' in "
                + "column 'adapter', which is not in the adapter folders \\[" + java.util.regex.Pattern.quote(folder)
                + "\\].*"), chain);
    }

    /** Reports this JVM's process id and how many bases it has loaded. */
    private static final class JvmBaseLoads implements MapPartitionsFunction<Long, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<String> call(Iterator<Long> input) {
            return List.of(ProcessHandle.current().pid() + ":" + ExecutorAdapters.baseLoads()).iterator();
        }
    }
}
