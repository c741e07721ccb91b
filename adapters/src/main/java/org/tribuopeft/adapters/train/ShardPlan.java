package org.tribuopeft.adapters.train;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The batches of a data-parallel run as this process sees them ({@link DataParallel} defines the layout): which
 * shards it plays, where each shard starts in its training list, each shard's per-epoch shuffle, and the rows and
 * loss weight each shard contributes to every global batch.
 */
final class ShardPlan {
    /** One shard's part of a global batch: its rows (indices into this process's training list) and loss weight. */
    record Part(int rank, int[] rows, float weight) {}

    private final DataParallel layout;
    private final int localBatch;
    private final int stepsPerEpoch;
    private final int[] ranks;
    private final int[] offsets;
    private final SplittableRandom[] shuffles;

    /**
     * @param layout the run's layout
     * @param globalBatch the configured batch size (the global batch)
     * @param shuffleRng the loop's shuffle stream; one seed per shard is drawn from it, the same on every replica
     */
    ShardPlan(DataParallel layout, int globalBatch, SplittableRandom shuffleRng) {
        this.layout = layout;
        this.localBatch = layout.localBatch(globalBatch);
        this.stepsPerEpoch = layout.stepsPerEpoch(globalBatch);
        int[] sizes = layout.shardSizes();
        long[] seeds = new long[sizes.length];
        for (int r = 0; r < sizes.length; r++) {
            seeds[r] = shuffleRng.nextLong();
        }
        this.ranks = layout.isSimulated() ? java.util.stream.IntStream.range(0, sizes.length).toArray()
                : new int[] {layout.rank()};
        this.offsets = new int[ranks.length];
        this.shuffles = new SplittableRandom[ranks.length];
        int offset = 0;
        for (int i = 0; i < ranks.length; i++) {
            offsets[i] = offset;
            offset += sizes[ranks[i]];
            shuffles[i] = new SplittableRandom(seeds[ranks[i]]);
        }
    }

    DataParallel layout() {
        return layout;
    }

    int localBatch() {
        return localBatch;
    }

    int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** True when this process plays rank 0, which counts the regulariser, writes checkpoints and picks the resume. */
    boolean playsRankZero() {
        return ranks[0] == 0;
    }

    /** The shards this process plays, ascending. */
    int[] ranks() {
        return ranks.clone();
    }

    /** Where shard {@code ranks()[i]} starts in this process's training list. */
    int offset(int i) {
        return offsets[i];
    }

    /** Draws the next epoch's shuffle of every shard this process plays (shard-relative indices). */
    int[][] nextEpochOrders() {
        int[] sizes = layout.shardSizes();
        int[][] orders = new int[ranks.length][];
        for (int i = 0; i < ranks.length; i++) {
            orders[i] = FineTuner.permutation(sizes[ranks[i]], shuffles[i]);
        }
        return orders;
    }

    /** The rows shard {@code rank} adds to global batch {@code b} of an epoch. */
    private int rowsOf(int rank, int b) {
        int size = layout.shardSizes()[rank];
        return Math.max(0, Math.min(localBatch, size - b * localBatch));
    }

    /** The rows of global batch {@code b} over all shards. */
    int globalRows(int b) {
        int total = 0;
        for (int r = 0; r < layout.workers(); r++) {
            total += rowsOf(r, b);
        }
        return total;
    }

    /** This process's parts of global batch {@code b}, in rank order; weights are each part's share of the rows. */
    List<Part> parts(int[][] orders, int b) {
        int total = globalRows(b);
        List<Part> out = new ArrayList<>(ranks.length);
        for (int i = 0; i < ranks.length; i++) {
            int m = rowsOf(ranks[i], b);
            int[] rows = new int[m];
            for (int j = 0; j < m; j++) {
                rows[j] = offsets[i] + orders[i][b * localBatch + j];
            }
            out.add(new Part(ranks[i], rows, (float) m / total));
        }
        if (layout.wholeBatches()) {
            int[] all = out.stream().flatMapToInt(part -> java.util.Arrays.stream(part.rows())).toArray();
            return List.of(new Part(0, all, 1f));
        }
        return out;
    }
}
