package org.tribuopeft.cli;

/** A command-line mistake; its message is printed with the usage, without a stack trace. */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }
}
