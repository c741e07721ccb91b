package org.tribuopeft.plugin;

/**
 * A saved model whose contents are damaged or were edited after saving: its checksum does not match, a tensor
 * holds NaN or infinity or the wrong number of bytes, or a field cannot be interpreted. Thrown while loading;
 * the message names the part at fault.
 */
public final class CorruptModelException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is damaged, and what to do
     */
    public CorruptModelException(String message) {
        super(message);
    }

    /** Creates the exception, keeping the low-level cause. */
    public CorruptModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
