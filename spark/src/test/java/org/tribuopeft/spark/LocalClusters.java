package org.tribuopeft.spark;

import org.apache.spark.sql.SparkSession;

/**
 * Starts a Spark session on separate executor JVMs ({@code local-cluster}) from the Maven test classpath alone, with
 * no Spark distribution: the executors are launched as {@code java} with the test classpath (without it they die and
 * are relaunched forever) and the two environment variables Spark's launcher otherwise takes from a distribution.
 */
public final class LocalClusters {
    private LocalClusters() {}

    /**
     * Starts (or returns the running) session on {@code local-cluster[2,1,executorMemoryMiB]}, with no task retries.
     *
     * @param appName the application name
     * @param executorMemoryMiB each executor JVM's memory
     * @param shufflePartitions {@code spark.sql.shuffle.partitions}
     */
    public static SparkSession twoExecutors(String appName, int executorMemoryMiB, int shufflePartitions) {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return SparkSession.builder().master("local-cluster[2,1," + executorMemoryMiB + "]").appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.executor.extraClassPath", classpath)
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.SPARK_SQL_TESTING", "1")
                .config("spark.task.maxFailures", "1")
                .config("spark.sql.shuffle.partitions", Integer.toString(shufflePartitions))
                .getOrCreate();
    }
}
