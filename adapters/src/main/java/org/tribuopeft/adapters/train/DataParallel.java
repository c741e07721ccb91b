package org.tribuopeft.adapters.train;

import java.util.Arrays;

/**
 * The layout of a data-parallel run: {@code workers} replicas, replica {@code r} holding shard {@code r} of
 * {@code shardSizes[r]} examples. The global batch of step {@code b} is the concatenation, in rank order, of every
 * shard's local batch {@code b} (batch size / workers rows of that shard's own per-epoch shuffle); a shard that runs
 * out early adds fewer or no rows, and an epoch has as many steps as the largest shard needs. The gradient of each
 * step is the gradient of the mean loss over the whole global batch (each replica scales its loss by its share of
 * the rows; a method's regulariser is counted once, by rank 0), summed across replicas in rank order before
 * clipping, the optimizer step and the method's hook.
 * <p>
 * The same layout can be run by one process playing every replica in turn ({@link #simulated}): it computes the
 * same per-shard gradients and adds them in the same order, so it reproduces a distributed run bit for bit (same
 * thread count); it is the one-machine replay of a cluster run.
 *
 * @param rank this process's replica, or -1 when one process plays every replica
 * @param shardSizes the examples of each shard, by rank
 * @param exchange how this replica reaches the others (null when simulated)
 * @param wholeBatches when simulated, true computes each global batch in one forward and backward pass instead of
 *     shard by shard: the classic one-process training of the same batches, equal to the replicas' result up to
 *     float rounding (the replicas add per-shard sums) and, with dropout, up to the dropout masks
 */
public record DataParallel(int rank, int[] shardSizes, ReplicaExchange exchange, boolean wholeBatches) {
    /** The rank of {@link #simulated} layouts. */
    public static final int ALL_RANKS = -1;

    /** Validates the layout. */
    public DataParallel {
        if (shardSizes == null || shardSizes.length == 0) {
            throw new IllegalArgumentException("a data-parallel layout needs at least one shard");
        }
        shardSizes = shardSizes.clone();
        for (int r = 0; r < shardSizes.length; r++) {
            if (shardSizes[r] < 0) {
                throw new IllegalArgumentException("shard " + r + " has " + shardSizes[r] + " examples");
            }
        }
        if (Arrays.stream(shardSizes).sum() == 0) {
            throw new IllegalArgumentException("every shard is empty: no training examples");
        }
        if (rank != ALL_RANKS && (rank < 0 || rank >= shardSizes.length)) {
            throw new IllegalArgumentException("rank " + rank + " is outside the " + shardSizes.length + " workers");
        }
        if (rank != ALL_RANKS && wholeBatches) {
            throw new IllegalArgumentException("only a simulated layout can compute whole global batches");
        }
        if (rank != ALL_RANKS && exchange == null) {
            throw new IllegalArgumentException("replica " + rank + " needs an exchange to reach the other replicas");
        }
    }

    /** Replica {@code rank} of a run whose shards hold {@code shardSizes} examples, talking through {@code exchange}. */
    public static DataParallel replica(int rank, int[] shardSizes, ReplicaExchange exchange) {
        return new DataParallel(rank, shardSizes, exchange, false);
    }

    /** One process playing every replica of the layout; its training list is the shards concatenated in rank order. */
    public static DataParallel simulated(int[] shardSizes) {
        return new DataParallel(ALL_RANKS, shardSizes, null, false);
    }

    /**
     * One process training on the layout's global batches, each in one forward and backward pass: what a single
     * machine with the same global batch and seed computes, to compare a cluster run with.
     */
    public static DataParallel wholeBatches(int[] shardSizes) {
        return new DataParallel(ALL_RANKS, shardSizes, null, true);
    }

    /** The number of replicas. */
    public int workers() {
        return shardSizes.length;
    }

    /** True when one process plays every replica. */
    public boolean isSimulated() {
        return rank == ALL_RANKS;
    }

    /** The examples of every shard together. */
    public int totalExamples() {
        return Arrays.stream(shardSizes).sum();
    }

    /** The shard sizes, by rank (a copy). */
    @Override
    public int[] shardSizes() {
        return shardSizes.clone();
    }

    /**
     * The rows each replica contributes to a full global batch.
     *
     * @throws IllegalArgumentException when {@code globalBatch} is not a multiple of the workers
     */
    public int localBatch(int globalBatch) {
        if (globalBatch % workers() != 0) {
            throw new IllegalArgumentException("batchSize " + globalBatch + " is the global batch of a data-parallel "
                    + "run and must be a multiple of the " + workers() + " workers (e.g. "
                    + Math.max(workers(), globalBatch / workers() * workers()) + ")");
        }
        return globalBatch / workers();
    }

    /** Optimizer steps per epoch: what the largest shard needs at the local batch of {@code globalBatch}. */
    public int stepsPerEpoch(int globalBatch) {
        int local = localBatch(globalBatch);
        int largest = Arrays.stream(shardSizes).max().orElse(0);
        return (largest + local - 1) / local;
    }

    /** The examples this process trains on: its shard, or every shard when simulated. */
    public int localExamples() {
        return isSimulated() ? totalExamples() : shardSizes[rank];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DataParallel d && d.rank == rank && Arrays.equals(d.shardSizes, shardSizes)
                && java.util.Objects.equals(d.exchange, exchange) && d.wholeBatches == wholeBatches;
    }

    @Override
    public int hashCode() {
        return 31 * rank + Arrays.hashCode(shardSizes);
    }

    @Override
    public String toString() {
        return "DataParallel(rank=" + (isSimulated() ? "all" : rank) + ", shards=" + Arrays.toString(shardSizes)
                + (wholeBatches ? ", whole batches" : "") + ")";
    }
}
