package org.tribuopeft.adapters.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An output file or folder that cannot be written, or must not be: a file in the way, a folder that
 * cannot be created or written, or one that holds files this library did not write. The message names
 * the path, what is wrong and what to do; nothing was changed on disk when it is thrown.
 */
public class OutputLocationException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path location;

    /**
     * Creates an exception about one output location.
     *
     * @param location the file or folder at fault
     * @param problem what is wrong and what to do, as a sentence fragment
     */
    public OutputLocationException(Path location, String problem) {
        super(location + ": " + problem);
        this.location = location;
    }

    /** The file or folder this exception is about. */
    public Path location() {
        return location;
    }
}
