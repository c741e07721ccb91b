package org.tribuopeft.cli;

import java.io.IOException;
import java.nio.file.Path;

/** A line of an input file that cannot be read: bad encoding, bad JSON, a missing field. Names the file and line. */
public class InputFileException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception about one line.
     *
     * @param file the input file
     * @param line the 1-based line number
     * @param problem what is wrong and what to do, as a sentence fragment
     */
    public InputFileException(Path file, int line, String problem) {
        super(file + " line " + line + ": " + problem);
    }
}
