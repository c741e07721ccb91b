package org.tribuopeft.server;

/**
 * A request the server answers with an error status and a message saying what was wrong and what to do: the
 * status is chosen where the fault is found (404 unknown adapter, 413 too large, 422 unusable adapter file, 503
 * queue full), never by the HTTP layer guessing from a generic exception.
 */
public class HttpStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final int retryAfterSeconds;

    /**
     * An error response.
     *
     * @param status the HTTP status code
     * @param message what was wrong and what to do
     */
    public HttpStatusException(int status, String message) {
        this(status, message, 0);
    }

    /**
     * An error response that tells the client when to retry.
     *
     * @param status the HTTP status code
     * @param message what was wrong and what to do
     * @param retryAfterSeconds the Retry-After header's value in seconds; 0 for none
     */
    public HttpStatusException(int status, String message, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The HTTP status code. */
    public int status() {
        return status;
    }

    /** Seconds for the Retry-After header, 0 for none. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
