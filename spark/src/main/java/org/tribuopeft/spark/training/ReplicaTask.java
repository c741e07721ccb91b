package org.tribuopeft.spark.training;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.sql.Row;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.train.DataParallel;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.ReplicaExchange;
import org.tribuopeft.adapters.train.StepProgress;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The body of one barrier task: one replica. It orders its partition's rows, rebuilds the trainer, decides with
 * the others whether this stage attempt resumes from a checkpoint (rank 0 decides, so all agree even while a
 * failed attempt's task is still being killed), trains its shard, and reports back; rank 0 also returns the model.
 */
final class ReplicaTask extends AbstractFunction1<Iterator<Row>, Iterator<ReplicaOutcome>> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String trainerJson;
    private final int invocationCount;
    private final int[] shardSizes;
    private final ShardExamples.Domain domain;
    private final String textField;
    private final SparkTrainingOptions options;

    ReplicaTask(String trainerJson, int invocationCount, int[] shardSizes, ShardExamples.Domain domain,
                String textField, SparkTrainingOptions options) {
        this.trainerJson = trainerJson;
        this.invocationCount = invocationCount;
        this.shardSizes = shardSizes.clone();
        this.domain = domain;
        this.textField = textField;
        this.options = options;
    }

    @Override
    public Iterator<ReplicaOutcome> apply(Iterator<Row> rows) {
        BarrierTaskContext context = BarrierTaskContext.get();
        int rank = context.partitionId();
        int attempt = context.stageAttemptNumber();
        List<Row> shard = new ArrayList<>();
        rows.foreach(r -> shard.add(r));
        BarrierExchange barrier = new BarrierExchange(context);
        boolean resume = agreeOnResume(barrier, rank, attempt);
        AdapterTrainer<Label> trainer = trainer(resume);
        StepClock clock = new StepClock(rank, attempt, options);
        SocketExchange socket = null;
        AdapterModel<Label> model;
        ExchangeStats stats = barrier;
        try {
            ReplicaExchange exchange = barrier;
            if (options.socketExchange()) {
                String host = context.getTaskInfos()[0].address().replaceFirst(":\\d+$", "");
                socket = SocketExchange.connect(barrier, rank, shardSizes.length, host);
                exchange = socket;
                stats = socket;
            }
            DataParallel layout = DataParallel.replica(rank, shardSizes, exchange);
            model = trainer.trainDataParallel(ShardExamples.dataset(ShardExamples.ordered(shard), domain, textField,
                    "Spark shard " + rank + " of " + shardSizes.length + " " + Arrays.toString(shardSizes)), layout,
                    clock);
        } finally {
            if (socket != null) {
                socket.close();
            }
        }
        byte[] proto = null;
        try {
            if (rank == 0) {
                proto = model.serialize().toByteArray();
            }
        } finally {
            model.close();
        }
        ReplicaOutcome outcome = new ReplicaOutcome(rank, attempt, clock.resumedAfter(), clock.steps(),
                clock.medianSeconds(), stats.gradientExchanges(), stats.bytesSentPerExchange(),
                stats.bytesReceivedPerExchange(), stats.exchangeSeconds(), proto, ProcessHandle.current().pid());
        return CollectionConverters.asScala(List.of(outcome).iterator());
    }

    /** Rank 0 decides: a retried attempt resumes when the checkpoint folder holds a checkpoint. */
    private boolean agreeOnResume(BarrierExchange exchange, int rank, int attempt) {
        byte[] mine = new byte[0];
        if (rank == 0) {
            boolean resume = attempt > 0 && options.checkpoints() && hasCheckpoint(Paths.get(options.checkpointDir()));
            mine = (resume ? "resume" : "fresh").getBytes(StandardCharsets.UTF_8);
        }
        return new String(exchange.allGather(mine).get(0), StandardCharsets.UTF_8).equals("resume");
    }

    private static boolean hasCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("checkpoint-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the checkpoint folder " + dir + ": " + e.getMessage(), e);
        }
    }

    private AdapterTrainer<Label> trainer(boolean resume) {
        AdapterTrainer<Label> t = TrainerTransport.fromJson(trainerJson);
        if (options.checkpoints()) {
            var b = t.toBuilder().checkpoints(Paths.get(options.checkpointDir()), options.checkpointEverySteps(), 3);
            if (resume) {
                b = b.resumeFrom(Paths.get(options.checkpointDir()));
            }
            t = b.build();
        }
        t.setInvocationCount(invocationCount);
        return t;
    }

    /** Times the steps of this attempt, notes where it resumed, and throws where a failure is injected. */
    private static final class StepClock implements ProgressListener {
        private final int rank;
        private final int attempt;
        private final SparkTrainingOptions options;
        private final List<Double> seconds = new ArrayList<>();
        private long last = System.nanoTime();
        private int first = -1;

        StepClock(int rank, int attempt, SparkTrainingOptions options) {
            this.rank = rank;
            this.attempt = attempt;
            this.options = options;
        }

        @Override
        public void onStep(StepProgress progress) {
            long now = System.nanoTime();
            seconds.add((now - last) / 1e9);
            last = now;
            if (first < 0) {
                first = progress.step();
            }
            if (attempt < options.failAttempts() && rank == options.failRank()
                    && progress.step() == options.failAfterStep()) {
                throw new IllegalStateException("injected failure: replica " + rank + " stops after step "
                        + progress.step() + " of stage attempt " + attempt);
            }
        }

        int resumedAfter() {
            return first < 0 ? 0 : first - 1;
        }

        int steps() {
            return seconds.size();
        }

        double medianSeconds() {
            // the first step also holds tokenising and setup: leave it out when there are others
            double[] s = seconds.stream().skip(seconds.size() > 1 ? 1 : 0).mapToDouble(Double::doubleValue).sorted()
                    .toArray();
            return s.length == 0 ? Double.NaN : s[s.length / 2];
        }
    }
}
