package org.tribuopeft.cli;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Something failed after training (evaluation, or writing the output folder). The trained model is
 * saved first wherever possible, and the message says where, so hours of training are not lost.
 */
public class RunOutputException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path savedModel;

    /**
     * Creates the exception.
     *
     * @param message what failed, and where the model was saved (or why it could not be)
     * @param savedModel where the trained model was saved, or null when it could not be
     * @param cause the failure
     */
    public RunOutputException(String message, Path savedModel, Throwable cause) {
        super(message, cause);
        this.savedModel = savedModel;
    }

    /** Where the trained model was saved, or null when saving it failed too. */
    public Path savedModel() {
        return savedModel;
    }
}
