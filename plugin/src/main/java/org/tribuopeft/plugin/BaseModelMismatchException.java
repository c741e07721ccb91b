package org.tribuopeft.plugin;

/**
 * The pretrained base model found on disk is not the one a model was trained on (its SHA-256
 * differs), or it cannot be found. Thrown when loading, unless the mismatch is explicitly allowed.
 */
public final class BaseModelMismatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what differs, naming the file and both hashes
     */
    public BaseModelMismatchException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public BaseModelMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
