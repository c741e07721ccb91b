package org.tribuopeft.plugin.data;

import java.nio.file.Path;

/**
 * A data file that cannot be read as the configuration says: missing, empty, without the configured
 * columns, or with a row that has no usable text or output. The message names the file, the line when
 * one row is at fault, and what to change.
 */
public final class DataFileException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /**
     * Creates the exception.
     *
     * @param file the data file at fault
     * @param message what is wrong and what to do, already naming the file
     */
    public DataFileException(Path file, String message) {
        super(message);
        this.file = file;
    }

    /**
     * Creates the exception with its cause.
     *
     * @param file the data file at fault
     * @param message what is wrong and what to do, already naming the file
     * @param cause the underlying error
     */
    public DataFileException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The data file at fault. */
    public Path file() {
        return file;
    }
}
