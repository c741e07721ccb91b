package org.tribuopeft.spark.training;

/** What a replica's gradient exchanges cost, for its report to the driver. */
interface ExchangeStats {
    /** Gradient all-gathers made. */
    int gradientExchanges();

    /** Bytes sent in one gradient all-gather, as they go on the wire. */
    long bytesSentPerExchange();

    /** Bytes received in one gradient all-gather, as they come off the wire. */
    long bytesReceivedPerExchange();

    /** Total wall time in gradient all-gathers, waiting for slower replicas included. */
    double exchangeSeconds();
}
