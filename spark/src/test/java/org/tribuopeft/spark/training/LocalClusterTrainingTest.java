package org.tribuopeft.spark.training;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.tribuopeft.spark.LocalClusters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel training on two separate executor JVMs ({@code local-cluster[2,1,1536]}, started from the test
 * classpath): the replicas run in different processes, exchange gradients over Spark's RPC, and the model equals
 * the one-machine replay in this JVM bit for bit (one PyTorch thread everywhere), over Spark's barrier all-gather and
 * over the direct socket exchange. It runs in the default build (about a minute on an idle 2-core machine, where
 * both executors start and load PyTorch and MiniLM); {@code -Dspark.test.excludedGroups=spark-cluster} skips it.
 */
@Tag("spark-cluster")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class LocalClusterTrainingTest {
    private static SparkSession spark;

    @TempDir
    static Path shared;

    @BeforeAll
    static void start() {
        spark = LocalClusters.twoExecutors("LocalClusterTrainingTest", 1536, 2);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void replicasInTwoExecutorJvmsTrainTheOneMachineReplayBitForBit() throws Exception {
        Path backbone = SparkTrainingFixtures.miniLmWithoutDropout(shared);
        Dataset<Row> data = SparkTrainingFixtures.imdb(spark, 24, 5, 2).cache();
        AdapterTrainer<Label> trainer = AdapterTrainer.<Label>builder(new LoraConfig()).backbone(backbone)
                .maxLength(32).batchSize(8).epochs(1).minSteps(0).seed(17).threads(1).progressSeconds(0).build();
        SparkTrainingResult r = SparkAdapterTraining.fit(data, "text", "label", trainer,
                SparkTrainingOptions.workers(2));
        long driver = ProcessHandle.current().pid();
        assertEquals(2, r.replicas().stream().mapToLong(ReplicaOutcome::processId).distinct().count());
        assertTrue(r.replicas().stream().noneMatch(o -> o.processId() == driver));
        try (AdapterModel<Label> cluster = r.model();
             AdapterModel<Label> replay = SparkAdapterTraining.replayOnOneMachine(data, "text", "label",
                     trainer.toBuilder().build(), SparkTrainingOptions.workers(2))) {
            Map<String, HostTensor> a = cluster.trainedTensors();
            Map<String, HostTensor> b = replay.trainedTensors();
            double diff = a.keySet().stream().mapToDouble(k -> a.get(k).maxAbsDiff(b.get(k))).max().orElse(0);
            System.out.println("local-cluster replicas vs one-machine replay: max |diff| = " + diff);
            assertEquals(a.keySet(), b.keySet());
            assertTrue(a.keySet().stream().allMatch(k -> a.get(k).bitEquals(b.get(k))), "max |diff| " + diff);
            // the socket transport between the two executor JVMs sums the same buffers in the same order
            try (AdapterModel<Label> socket = SparkAdapterTraining.fit(data, "text", "label", trainer.toBuilder().build(),
                    SparkTrainingOptions.workers(2).withSocketExchange()).model()) {
                Map<String, HostTensor> c = socket.trainedTensors();
                assertTrue(a.keySet().stream().allMatch(k -> a.get(k).bitEquals(c.get(k))), "socket transport differs");
            }
        }
    }
}
