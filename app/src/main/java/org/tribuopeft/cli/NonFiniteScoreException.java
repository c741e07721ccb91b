package org.tribuopeft.cli;

/**
 * A model produced NaN or an infinite score: its weights are broken (training diverged), so every
 * prediction it makes is meaningless. Refused instead of written, naming the output and the input line.
 */
public class NonFiniteScoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param where the input the score is for, e.g. {@code "line 3 of in.txt"}
     * @param output the label or dimension whose score is not finite
     * @param value the score
     */
    public NonFiniteScoreException(String where, String output, double value) {
        super("the model gave the score " + value + " for '" + output + "' on " + where + ": its weights are not "
                + "finite numbers (training diverged, e.g. a learning rate too high), so none of its predictions can "
                + "be trusted; retrain it (lower the learning rate) and check its evaluation");
    }
}
