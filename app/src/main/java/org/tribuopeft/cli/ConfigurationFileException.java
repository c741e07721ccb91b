package org.tribuopeft.cli;

/** A configuration file that cannot be turned into a pipeline; the message names the file and the component at fault. */
final class ConfigurationFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ConfigurationFileException(String message, Throwable cause) {
        super(message, cause);
    }

    ConfigurationFileException(String message) {
        super(message);
    }
}
