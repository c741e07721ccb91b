package org.tribuopeft.server;

/** How the scheduler runs a batch whose requests name different adapters. */
public enum Batching {
    /** One forward pass for every row: base matmuls over all rows, each adapter's term over its own rows. */
    MIXED,
    /** One forward pass per adapter in the batch (the usual way, and the baseline mixed batching is measured against). */
    PER_ADAPTER,
    /**
     * Each adapter merged into its own copy of the base (the cost of the bare base per pass, but a full base in
     * memory per adapter): the reference point for one adapter.
     */
    MERGED
}
