package org.tribuopeft.spark.scoring;

/**
 * A row that cannot be scored (an adapter id that names no adapter, a missing text) or an adapter that cannot be
 * used. Thrown inside a Spark task, it fails the job; Spark reports this message in the driver's exception.
 */
public final class AdapterScoringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with a message that names the row, the column and the value at fault. */
    public AdapterScoringException(String message) {
        super(message);
    }

    /** An error caused by {@code cause}, whose message is kept in this one. */
    public AdapterScoringException(String message, Throwable cause) {
        super(message, cause);
    }
}
