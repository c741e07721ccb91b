package org.tribuopeft.spark.training;

import java.io.Serializable;

/**
 * How a data-parallel training runs on the cluster: the number of replicas (one Spark barrier task each, so the
 * cluster needs that many free task slots at once), where the checkpoints go that a retried stage resumes from, and,
 * for tests of that recovery, a replica that fails once.
 *
 * @param workers replicas, one per partition (at least 1)
 * @param checkpointDir a folder every executor can read and write (shared storage); empty: no checkpoints, and a
 *     retried stage starts again from step 0
 * @param checkpointEverySteps also save every this many optimizer steps (0: only at epoch ends)
 * @param failRank the replica that throws, for recovery tests; -1 for none
 * @param failAfterStep the step after which {@code failRank} throws
 * @param failAttempts how many of the stage's first attempts the injected failure hits
 * @param socketExchange true sends gradients over direct TCP connections to rank 0 instead of Spark's barrier
 *     all-gather (which waits in 1 s steps); the executors must reach each other on an ephemeral port
 */
public record SparkTrainingOptions(int workers, String checkpointDir, int checkpointEverySteps, int failRank,
                                   int failAfterStep, int failAttempts, boolean socketExchange)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Validates the options, naming the field at fault. */
    public SparkTrainingOptions {
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, found " + workers);
        }
        checkpointDir = checkpointDir == null ? "" : checkpointDir;
        if (checkpointEverySteps < 0) {
            throw new IllegalArgumentException("checkpointEverySteps must be >= 0, found " + checkpointEverySteps);
        }
        if (failRank >= workers) {
            throw new IllegalArgumentException("failRank " + failRank + " is outside the " + workers + " workers");
        }
    }

    /** {@code workers} replicas, no checkpoints. */
    public static SparkTrainingOptions workers(int workers) {
        return new SparkTrainingOptions(workers, "", 0, -1, 0, 0, false);
    }

    /** A copy that checkpoints to {@code dir} (shared storage) every {@code everySteps} steps and at epoch ends. */
    public SparkTrainingOptions withCheckpoints(String dir, int everySteps) {
        return new SparkTrainingOptions(workers, dir, everySteps, failRank, failAfterStep, failAttempts,
                socketExchange);
    }

    /**
     * A copy in which replica {@code rank} throws after step {@code step} on the stage's first attempt: the barrier
     * stage fails, Spark retries it, and the retry resumes from the last checkpoint. For recovery tests and drills.
     */
    public SparkTrainingOptions withInjectedFailure(int rank, int step) {
        return withInjectedFailure(rank, step, 1);
    }

    /** As {@link #withInjectedFailure(int, int)}, failing the first {@code attempts} stage attempts. */
    public SparkTrainingOptions withInjectedFailure(int rank, int step, int attempts) {
        return new SparkTrainingOptions(workers, checkpointDir, checkpointEverySteps, rank, step, attempts,
                socketExchange);
    }

    /**
     * A copy that sends gradients over direct TCP connections between the tasks (rank 0 the hub; its address goes
     * once through the barrier all-gather) instead of through the driver: no Base64 and no 1 s polling per step.
     * The executors must reach each other on an ephemeral port.
     */
    public SparkTrainingOptions withSocketExchange() {
        return new SparkTrainingOptions(workers, checkpointDir, checkpointEverySteps, failRank, failAfterStep,
                failAttempts, true);
    }

    /** True when checkpoints are written. */
    public boolean checkpoints() {
        return !checkpointDir.isBlank();
    }
}
