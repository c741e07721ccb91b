package org.tribuopeft.spark.training;

/**
 * What a replica's gradient exchanges cost, for its report to the driver: each transport records every exchange
 * here once, so the counters and their accessors live in one place.
 */
abstract class ExchangeStats {
    private int gradientExchanges;
    private long bytesSent;
    private long bytesReceived;
    private long exchangeNanos;

    /**
     * Records one gradient all-gather.
     *
     * @param startNanos {@link System#nanoTime()} when it began
     * @param sent bytes this replica sent, as they went on the wire
     * @param received bytes this replica received, as they came off the wire
     */
    protected final void recordExchange(long startNanos, long sent, long received) {
        exchangeNanos += System.nanoTime() - startNanos;
        gradientExchanges++;
        bytesSent = sent;
        bytesReceived = received;
    }

    /** Gradient all-gathers made. */
    final int gradientExchanges() {
        return gradientExchanges;
    }

    /** Bytes sent in one gradient all-gather, as they go on the wire. */
    final long bytesSentPerExchange() {
        return bytesSent;
    }

    /** Bytes received in one gradient all-gather, as they come off the wire. */
    final long bytesReceivedPerExchange() {
        return bytesReceived;
    }

    /** Total wall time in gradient all-gathers, waiting for slower replicas included. */
    final double exchangeSeconds() {
        return exchangeNanos / 1e9;
    }
}
