package org.tribuopeft.spark.training;

import java.io.Serializable;

/**
 * What one replica reports back to the driver: which stage attempt it ran in, where it resumed, its step times and
 * what it exchanged; rank 0 also carries the trained model (Tribuo protobuf bytes).
 *
 * @param rank the replica
 * @param stageAttempt the barrier stage's attempt number (0 for the first)
 * @param resumedAfterStep the checkpoint step this attempt continued from (0: from the start)
 * @param stepsRun optimizer steps this attempt took
 * @param medianStepSeconds median wall time of this attempt's steps, exchange included
 * @param gradientExchanges gradient all-gathers this attempt made
 * @param bytesSentPerExchange bytes this replica sent in one gradient all-gather (the encoded message)
 * @param bytesReceivedPerExchange bytes this replica received in one gradient all-gather (every replica's message)
 * @param exchangeSeconds total wall time spent in gradient all-gathers (waiting for slower replicas included)
 * @param modelProto the trained model from rank 0; null from the others
 * @param processId the executor JVM's process id (replicas in one JVM take turns on the engine)
 */
public record ReplicaOutcome(int rank, int stageAttempt, int resumedAfterStep, int stepsRun, double medianStepSeconds,
                             int gradientExchanges, long bytesSentPerExchange, long bytesReceivedPerExchange,
                             double exchangeSeconds, byte[] modelProto, long processId) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Mean wall time of one gradient all-gather, in seconds (NaN when none was made). */
    public double secondsPerExchange() {
        return gradientExchanges == 0 ? Double.NaN : exchangeSeconds / gradientExchanges;
    }
}
