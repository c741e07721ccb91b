package org.tribuopeft.adapters.checkpoint;

/**
 * A valid checkpoint that belongs to a different run (another seed, data set, method setting, batch
 * size...): resuming from it would silently train something else, so it is refused. The message
 * names the setting and both values.
 */
public final class CheckpointMismatchException extends CheckpointException {
    private static final long serialVersionUID = 1L;

    private final String field;

    /**
     * Creates the exception.
     *
     * @param field the fingerprint entry that differs
     * @param message the full explanation
     */
    public CheckpointMismatchException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The fingerprint entry that differs. */
    public String field() {
        return field;
    }
}
