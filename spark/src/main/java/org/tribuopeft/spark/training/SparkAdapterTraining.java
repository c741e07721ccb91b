package org.tribuopeft.spark.training;

import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.adapters.train.DataParallel;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import scala.reflect.ClassTag$;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.trim;

/**
 * Data-parallel fine-tuning of a text classifier on a Spark DataFrame, in barrier execution mode: the rows are
 * split into one shard per worker, each barrier task trains one replica of the model on its shard only, and the
 * replicas sum their gradients through {@code BarrierTaskContext.allGather} in rank order every step, so all apply
 * the same update (see {@link DataParallel} for the batch layout). A replica that dies fails the barrier stage;
 * Spark retries the whole stage and the retry resumes from the newest checkpoint in the shared checkpoint folder.
 * {@link #replayOnOneMachine} retrains the same layout in one process and gets the same bits.
 */
public final class SparkAdapterTraining {
    private SparkAdapterTraining() {}

    /**
     * Trains {@code trainer}'s method on the DataFrame's text and label columns with {@code options.workers()}
     * replicas. The trainer's {@code batchSize} is the global batch (a multiple of the workers), its
     * {@code validationFraction} must be 0, and its checkpoint settings are replaced by the options'.
     *
     * @param data the training rows
     * @param textColumn a string column holding the text
     * @param labelColumn a string column holding the class label
     * @param trainer the trainer (its settings are shipped to the executors; its invocation count advances by one)
     * @param options workers, checkpoint folder, injected failure
     * @return the model from rank 0 and every replica's report
     * @throws IllegalArgumentException naming the column, value or setting at fault
     */
    public static SparkTrainingResult fit(Dataset<Row> data, String textColumn, String labelColumn,
                                          AdapterTrainer<Label> trainer, SparkTrainingOptions options) {
        Prepared p = prepare(data, textColumn, labelColumn, trainer, options);
        int invocation = trainer.getInvocationCount();
        ReplicaTask task = new ReplicaTask(TrainerTransport.toJson(trainer), invocation, p.shardSizes, p.domain,
                trainer.textField(), options);
        RDD<ReplicaOutcome> replicas = p.shards.rdd().barrier().mapPartitions(task, false,
                ClassTag$.MODULE$.apply(ReplicaOutcome.class));
        List<ReplicaOutcome> outcomes;
        try {
            // the shuffle after the barrier stage makes it a shuffle-map stage, which Spark retries as a whole when a
            // task fails; a failed barrier result stage is aborted without retry
            outcomes = new ArrayList<>(replicas.toJavaRDD().repartition(1).collect());
        } catch (Exception e) {
            throw new IllegalStateException("data-parallel training failed and Spark stopped retrying its barrier stage "
                    + "(spark.stage.maxConsecutiveAttempts): " + rootMessage(e) + (options.checkpoints()
                    ? "; the checkpoints in " + options.checkpointDir() + " are kept" : "; no checkpoints were kept "
                    + "(set a checkpoint folder so that a retry continues instead of starting over)"), e);
        }
        outcomes.sort(Comparator.comparingInt(ReplicaOutcome::rank));
        trainer.setInvocationCount(invocation + 1);
        byte[] proto = outcomes.get(0).modelProto();
        try {
            @SuppressWarnings("unchecked")
            AdapterModel<Label> model = (AdapterModel<Label>) Model.deserialize(ModelProto.parseFrom(proto));
            return new SparkTrainingResult(model, List.copyOf(outcomes));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("rank 0 returned a model that does not parse: " + e.getMessage(), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        // Spark's message: the abort on its first line, the failed task's exception on the next
        String first = String.join(" ", String.valueOf(e.getMessage()).lines().filter(l -> !l.isBlank()).limit(2)
                .toList());
        return t == e || first.contains(String.valueOf(t.getMessage())) ? first
                : first + " (cause: " + t.getMessage() + ")";
    }

    /**
     * Retrains the layout {@link #fit} would use, in this process: the same shards (collected to the driver, so only
     * for data that fits one machine), the same global batches, the same per-shard gradients added in the same order.
     * With the thread count of the cluster run, the result is the cluster run's model bit for bit.
     *
     * @throws IllegalArgumentException as {@link #fit} does
     */
    public static AdapterModel<Label> replayOnOneMachine(Dataset<Row> data, String textColumn, String labelColumn,
                                                         AdapterTrainer<Label> trainer, SparkTrainingOptions options) {
        return oneMachine(data, textColumn, labelColumn, trainer, options, false);
    }

    /**
     * Trains on the same global batches as {@link #fit} in this process, each global batch in one forward and
     * backward pass: classic single-machine training of the same batches and seed. Without dropout in the backbone
     * it equals the cluster run up to float rounding; with dropout, the masks differ.
     */
    public static AdapterModel<Label> trainWholeBatchesOnOneMachine(Dataset<Row> data, String textColumn,
                                                                    String labelColumn, AdapterTrainer<Label> trainer,
                                                                    SparkTrainingOptions options) {
        return oneMachine(data, textColumn, labelColumn, trainer, options, true);
    }

    private static AdapterModel<Label> oneMachine(Dataset<Row> data, String textColumn, String labelColumn,
                                                  AdapterTrainer<Label> trainer, SparkTrainingOptions options,
                                                  boolean wholeBatches) {
        Prepared p = prepare(data, textColumn, labelColumn, trainer, options);
        List<List<Row>> shards = p.shards.glom().collect();
        List<Row> all = new ArrayList<>();
        for (List<Row> shard : shards) {
            all.addAll(ShardExamples.ordered(shard));
        }
        DataParallel layout = wholeBatches ? DataParallel.wholeBatches(p.shardSizes)
                : DataParallel.simulated(p.shardSizes);
        return trainer.trainDataParallel(ShardExamples.dataset(all, p.domain, trainer.textField(),
                "Spark shards " + Arrays.toString(p.shardSizes) + " on one machine"), layout, ProgressListener.NONE);
    }

    /** The shards, their sizes and the label domain, after checking the input. */
    private record Prepared(JavaRDD<Row> shards, int[] shardSizes, ShardExamples.Domain domain) {}

    private static Prepared prepare(Dataset<Row> data, String textColumn, String labelColumn,
                                    AdapterTrainer<Label> trainer, SparkTrainingOptions options) {
        requireStringColumn(data, textColumn, "text");
        requireStringColumn(data, labelColumn, "label");
        int workers = options.workers();
        trainer.checkDataParallel(workers);
        SparkContext sc = data.sparkSession().sparkContext();
        if (workers > sc.defaultParallelism()) {
            throw new IllegalArgumentException(workers + " workers need " + workers + " task slots at once (barrier "
                    + "mode) but this cluster offers " + sc.defaultParallelism() + "; use at most that many workers");
        }
        Dataset<Row> selected = data.select(col(textColumn), col(labelColumn));
        long bad = selected.filter(col(textColumn).isNull().or(trim(col(textColumn)).equalTo(""))
                .or(col(labelColumn).isNull())).count();
        if (bad > 0) {
            throw new IllegalArgumentException(bad + " rows have a null or blank '" + textColumn + "' or a null '"
                    + labelColumn + "'; drop or fill them before training");
        }
        List<String> labels = new ArrayList<>(selected.select(col(labelColumn)).distinct().as(
                org.apache.spark.sql.Encoders.STRING()).collectAsList());
        labels.sort(Comparator.naturalOrder());
        if (labels.size() < 2) {
            throw new IllegalArgumentException("column '" + labelColumn + "' holds " + labels.size()
                    + " distinct labels " + labels + "; a classifier needs at least 2");
        }
        JavaRDD<Row> shards = selected.repartition(workers).javaRDD();
        List<Integer> counts = shards.mapPartitions(it -> {
            int n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            return List.of(n).iterator();
        }).collect();
        int[] sizes = counts.stream().mapToInt(Integer::intValue).toArray();
        for (int r = 0; r < sizes.length; r++) {
            if (sizes[r] == 0) {
                throw new IllegalArgumentException("shard " + r + " of " + workers + " is empty ("
                        + Arrays.toString(sizes) + " rows); use fewer workers or more data");
            }
        }
        return new Prepared(shards, sizes, ShardExamples.Domain.of(labels, trainer.textField()));
    }

    private static void requireStringColumn(Dataset<Row> data, String column, String role) {
        StructField field = Arrays.stream(data.schema().fields()).filter(f -> f.name().equals(column)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the " + role + " column '" + column + "' is not in "
                        + "the DataFrame (its columns: " + Arrays.toString(data.columns()) + ")"));
        if (!field.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("the " + role + " column '" + column + "' is "
                    + field.dataType().simpleString() + "; it must be a string column (cast it first)");
        }
    }
}
