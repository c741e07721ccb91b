package org.tribuopeft.provenance.replay;

/**
 * Replay cannot reproduce a model because an input changed: a data file or the base model no longer
 * has the checksum recorded in the provenance. The message names the file and both checksums.
 */
public final class ReplayRefusedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which file changed, with the recorded and current SHA-256
     */
    public ReplayRefusedException(String message) {
        super(message);
    }
}
