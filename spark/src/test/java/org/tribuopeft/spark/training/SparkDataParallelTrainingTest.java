package org.tribuopeft.spark.training;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two replicas in Spark barrier mode on {@code local[2]} fine-tune LoRA on the real MiniLM and real IMDB reviews:
 * the model equals its one-machine replay bit for bit and classic one-process training of the same global batches
 * up to float rounding; a replica lost mid-training fails the stage, and Spark's retry resumes from the last
 * checkpoint and ends with the same bits.
 */
class SparkDataParallelTrainingTest {
    private static SparkSession spark;
    private static Path backbone;
    private static Dataset<Row> data;
    private static AdapterModel<Label> uninterrupted;

    @TempDir
    static Path shared;

    @BeforeAll
    static void start() throws Exception {
        // local[2, 4]: two task slots, and a failed task does not abort the job at once, so the barrier stage retries
        spark = SparkSession.builder().master("local[2,4]").appName("SparkDataParallelTrainingTest")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.stage.maxConsecutiveAttempts", "2").getOrCreate();
        backbone = SparkTrainingFixtures.miniLmWithoutDropout(shared);
        data = SparkTrainingFixtures.imdb(spark, 40, 5, 3).cache();
        uninterrupted = SparkAdapterTraining.fit(data, "text", "label", trainer(), SparkTrainingOptions.workers(2))
                .model();
    }

    @AfterAll
    static void stop() {
        if (uninterrupted != null) {
            uninterrupted.close();
        }
        if (spark != null) {
            spark.stop();
        }
    }

    /** LoRA on q,v; 40 reviews in 2 shards of 20; global batch 8 = 4 per replica; 5 steps; 48 tokens. */
    static AdapterTrainer<Label> trainer() {
        return AdapterTrainer.<Label>builder(new LoraConfig()).backbone(backbone).maxLength(48).batchSize(8).epochs(1)
                .minSteps(0).learningRate(2e-3).seed(17).progressSeconds(0).build();
    }

    static double maxDiff(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        assertEquals(a.keySet(), b.keySet());
        return a.keySet().stream().mapToDouble(k -> a.get(k).maxAbsDiff(b.get(k))).max().orElse(0);
    }

    static boolean bitIdentical(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> a.get(k).bitEquals(b.get(k)));
    }

    @Test
    void twoWorkersTrainTheOneMachineReplayBitForBitAndWholeBatchTrainingUpToRounding() {
        try (AdapterModel<Label> replay = SparkAdapterTraining.replayOnOneMachine(data, "text", "label", trainer(),
                SparkTrainingOptions.workers(2));
             AdapterModel<Label> whole = SparkAdapterTraining.trainWholeBatchesOnOneMachine(data, "text", "label",
                     trainer(), SparkTrainingOptions.workers(2))) {
            Map<String, HostTensor> cluster = uninterrupted.trainedTensors();
            assertTrue(bitIdentical(cluster, replay.trainedTensors()), "replay differs by "
                    + maxDiff(cluster, replay.trainedTensors()));
            double diff = maxDiff(cluster, whole.trainedTensors());
            System.out.println("2 Spark replicas vs whole global batches in one process, LoRA on MiniLM, 5 steps: "
                    + "max |diff| = " + diff);
            // float32 sums of 4 + 4 rows against sums of 8 rows, carried through 5 AdamW steps
            assertTrue(diff < 1e-5, "max |diff| " + diff);
            try (AdapterModel<Label> fresh = SparkAdapterTraining.replayOnOneMachine(data, "text", "label",
                    trainer().toBuilder().epochs(1).learningRate(1e-9).build(), SparkTrainingOptions.workers(2))) {
                assertTrue(maxDiff(cluster, fresh.trainedTensors()) > 1e-4, "training must move the weights by far "
                        + "more than the tolerance");
            }
        }
        TrainingRunProvenance run = (TrainingRunProvenance) uninterrupted.getProvenance().getInstanceProvenance()
                .getMap().get(RunProvenanceKeys.TRAINING_RUN);
        assertEquals(Map.of("workers", "2", "shard-sizes", "[20, 20]", "global-batch", "8", "local-batch", "4"),
                run.dataParallel());
        assertEquals(5, run.stepsRun());
    }

    @Test
    void directSocketExchangeTrainsTheSameBitsAsTheBarrierAllGatherWithRawBytes() {
        SparkTrainingResult r = SparkAdapterTraining.fit(data, "text", "label", trainer(),
                SparkTrainingOptions.workers(2).withSocketExchange());
        try (AdapterModel<Label> model = r.model()) {
            assertTrue(bitIdentical(uninterrupted.trainedTensors(), model.trainedTensors()), "differs by "
                    + maxDiff(uninterrupted.trainedTensors(), model.trainedTensors()));
        }
        // replica 1 sends its raw float32 buffer (4 bytes a value) and receives both buffers
        ReplicaOutcome one = r.replicas().get(1);
        assertEquals(5, one.gradientExchanges());
        assertEquals(2 * one.bytesSentPerExchange(), one.bytesReceivedPerExchange());
        assertEquals(0, one.bytesSentPerExchange() % 4);
    }

    @Test
    void aReplicaLostMidTrainingFailsTheStageAndTheRetryResumesFromTheLastCheckpoint(@TempDir Path dir) {
        Path checkpoints = dir.resolve("checkpoints");
        SparkTrainingResult r = SparkAdapterTraining.fit(data, "text", "label", trainer(),
                SparkTrainingOptions.workers(2).withCheckpoints(checkpoints.toString(), 2).withInjectedFailure(1, 3));
        try (AdapterModel<Label> model = r.model()) {
            assertEquals(1, r.stageAttempt(), "the stage ran again after the lost replica");
            assertEquals(2, r.resumedAfterStep(), "the retry continued from checkpoint-2, not from step 0");
            assertEquals(List.of(3, 3), r.replicas().stream().map(ReplicaOutcome::stepsRun).toList());
            assertTrue(bitIdentical(uninterrupted.trainedTensors(), model.trainedTensors()), "differs by "
                    + maxDiff(uninterrupted.trainedTensors(), model.trainedTensors()));
        }
        assertTrue(Files.isDirectory(checkpoints.resolve("checkpoint-2")));
    }

    @Test
    void aReplicaThatFailsEveryAttemptEndsWithAnErrorNamingTheFailureAndTheKeptCheckpoints(@TempDir Path dir) {
        Path checkpoints = dir.resolve("checkpoints");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SparkAdapterTraining.fit(data,
                "text", "label", trainer(), SparkTrainingOptions.workers(2).withCheckpoints(checkpoints.toString(), 1)
                        .withInjectedFailure(0, 1, 2)));
        assertTrue(e.getMessage().contains("stopped retrying") && e.getMessage().contains("injected failure")
                && e.getMessage().contains(checkpoints.toString()), e.getMessage());
    }

    @Test
    void badInputIsRefusedNamingTheColumnOrSetting() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> SparkAdapterTraining
                .fit(data, "review", "label", trainer(), SparkTrainingOptions.workers(2)));
        assertTrue(missing.getMessage().contains("'review' is not in the DataFrame"), missing.getMessage());
        IllegalArgumentException slots = assertThrows(IllegalArgumentException.class, () -> SparkAdapterTraining
                .fit(data, "text", "label", trainer().toBuilder().batchSize(6).build(),
                        SparkTrainingOptions.workers(3)));
        assertTrue(slots.getMessage().contains("3 workers need 3 task slots"), slots.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class, () -> SparkAdapterTraining
                .fit(data, "text", "label", trainer().toBuilder().batchSize(7).build(),
                        SparkTrainingOptions.workers(2)));
        assertTrue(batch.getMessage().contains("batchSize 7") && batch.getMessage().contains("2 workers"),
                batch.getMessage());
        IllegalArgumentException validation = assertThrows(IllegalArgumentException.class, () -> SparkAdapterTraining
                .fit(data, "text", "label", trainer().toBuilder().validation(0.2, 0).build(),
                        SparkTrainingOptions.workers(2)));
        assertTrue(validation.getMessage().contains("validationFraction 0.2"), validation.getMessage());
    }
}
