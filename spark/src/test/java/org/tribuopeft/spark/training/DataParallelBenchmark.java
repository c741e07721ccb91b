package org.tribuopeft.spark.training;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import scala.reflect.ClassTag$;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Step time and gradient bytes per step of Spark data-parallel LoRA training on the real MiniLM with 1 and 2
 * workers, in alternating rounds; then the cost of one all-gather of a LoRA-sized and of a full-fine-tuning-sized
 * gradient alone (docs/benchmarks.md shows the command). Arguments: master, rows, global batch, max length, rounds,
 * spark.rpc.message.maxSize in MiB, PyTorch threads per replica (0: PyTorch's choice), transport ({@code barrier} or
 * {@code socket}). A {@code local-cluster[...]}
 * master starts executor JVMs from this JVM's class path.
 */
public final class DataParallelBenchmark {
    private DataParallelBenchmark() {}

    /** Runs the measurements and prints one line per run. */
    public static void main(String[] args) throws Exception {
        String master = args.length > 0 ? args[0] : "local[2]";
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 96;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int maxLength = args.length > 3 ? Integer.parseInt(args[3]) : 64;
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        String rpcMiB = args.length > 5 ? args[5] : "128";
        int threads = args.length > 6 ? Integer.parseInt(args[6]) : 0;
        boolean socket = args.length > 7 && args[7].equals("socket");
        SparkSession.Builder builder = SparkSession.builder().master(master).appName("DataParallelBenchmark")
                .config("spark.ui.enabled", "false").config("spark.rpc.message.maxSize", rpcMiB);
        if (master.startsWith("local-cluster")) {
            builder = builder.config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                    .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                    .config("spark.executorEnv.SPARK_SQL_TESTING", "1");
        }
        SparkSession spark = builder.getOrCreate();
        try {
            Dataset<Row> data = SparkTrainingFixtures.imdb(spark, rows, 9, 2).cache();
            data.count();
            long loraValues = 0;
            for (int round = 1; round <= rounds; round++) {
                for (int workers : new int[] {1, 2}) {
                    AdapterTrainer<Label> trainer = AdapterTrainer.<Label>builder(new LoraConfig())
                            .maxLength(maxLength).batchSize(batch).epochs(1).minSteps(0).seed(3).threads(threads)
                            .progressSeconds(0).build();
                    long start = System.nanoTime();
                    SparkTrainingOptions options = SparkTrainingOptions.workers(workers);
                    SparkTrainingResult r = SparkAdapterTraining.fit(data, "text", "label", trainer,
                            socket ? options.withSocketExchange() : options);
                    double wall = (System.nanoTime() - start) / 1e9;
                    ReplicaOutcome o = r.replicas().get(0);
                    loraValues = socket ? r.replicas().get(workers - 1).bytesSentPerExchange() / 4
                            : o.bytesSentPerExchange() * 3 / 4 / 4;
                    ReplicaOutcome last = r.replicas().get(workers - 1);
                    System.out.printf(Locale.ROOT, "rank %d: sent %d B/step, received %d B/step%n", workers - 1,
                            last.bytesSentPerExchange(), last.bytesReceivedPerExchange());
                    System.out.printf(Locale.ROOT, "%s round %d workers %d: %d steps, median step %.3f s, all-gather "
                                    + "%.3f s/step, sent %d B/step/replica, received %d B/step/replica, fit wall %.1f s%n",
                            socket ? "socket" : "barrier", round, workers, o.stepsRun(), o.medianStepSeconds(),
                            o.secondsPerExchange(), o.bytesSentPerExchange(), o.bytesReceivedPerExchange(), wall);
                    try (AdapterModel<Label> m = r.model()) {
                        // closes the native memory
                    }
                }
            }
            long fullValues = 22_713_216L + 384 * 2 + 2; // all MiniLM parameters + a 2-class head
            for (long values : new long[] {loraValues, fullValues}) {
                try {
                    System.out.printf(Locale.ROOT, "all-gather alone, 2 workers, %d floats (%.1f MB): %.3f s each%n",
                            values, values * 4 / 1e6, exchangeSeconds(spark, (int) values, socket));
                } catch (Exception e) {
                    System.out.println("all-gather alone, 2 workers, " + values + " floats: FAILED: "
                            + String.valueOf(e.getMessage()).lines().limit(2).toList());
                }
            }
        } finally {
            spark.stop();
        }
    }

    /** Seconds of one {@link BarrierExchange#sumInRankOrder} of {@code values} floats on 2 barrier tasks (slower task). */
    static double exchangeSeconds(SparkSession spark, int values, boolean socket) {
        List<Integer> parts = List.of(0, 1);
        var rdd = spark.sparkContext().parallelize(scala.jdk.javaapi.CollectionConverters.asScala(parts).toSeq(), 2,
                ClassTag$.MODULE$.apply(Integer.class));
        List<Double> seconds = rdd.barrier().mapPartitions(new ExchangeOnly(values, socket), false,
                ClassTag$.MODULE$.apply(Double.class)).toJavaRDD().collect();
        return seconds.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** A barrier task that exchanges a buffer three times and reports the mean time of the last two. */
    static final class ExchangeOnly extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Integer>,
            scala.collection.Iterator<Double>> implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final int values;
        private final boolean socket;

        ExchangeOnly(int values, boolean socket) {
            this.values = values;
            this.socket = socket;
        }

        @Override
        public scala.collection.Iterator<Double> apply(scala.collection.Iterator<Integer> ignored) {
            BarrierTaskContext context = BarrierTaskContext.get();
            BarrierExchange barrier = new BarrierExchange(context);
            org.tribuopeft.adapters.train.ReplicaExchange exchange = socket ? SocketExchange.connect(barrier,
                    context.partitionId(), 2, context.getTaskInfos()[0].address().replaceFirst(":\\d+$", ""))
                    : barrier;
            float[] buffer = new float[values];
            java.util.Arrays.fill(buffer, 0.5f);
            List<Double> times = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                exchange.sumInRankOrder(buffer);
                times.add((System.nanoTime() - start) / 1e9);
            }
            if (exchange instanceof SocketExchange s) {
                s.close();
            }
            double mean = (times.get(1) + times.get(2)) / 2;
            return scala.jdk.javaapi.CollectionConverters.asScala(List.of(mean).iterator());
        }
    }
}
