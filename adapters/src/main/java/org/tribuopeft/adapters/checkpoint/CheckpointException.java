package org.tribuopeft.adapters.checkpoint;

/**
 * A checkpoint that cannot be written or resumed from: no valid checkpoint in a folder, or one that
 * could not be saved. The message names the folder and what to do.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming the folder at fault. */
    public CheckpointException(String message) {
        super(message);
    }

    /** Creates the exception keeping the low-level cause. */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
