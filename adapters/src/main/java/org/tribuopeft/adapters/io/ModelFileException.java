package org.tribuopeft.adapters.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model, tokenizer or adapter file that is missing, truncated or inconsistent. The message names
 * the file and what is wrong with it, so a user can tell which of their files to fix.
 */
public class ModelFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String file;

    /**
     * Creates an exception about one file.
     *
     * @param file the file at fault (a path, or a classpath resource name)
     * @param problem what is wrong, as a sentence fragment
     */
    public ModelFileException(String file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** Creates an exception about one file, keeping the low-level cause. */
    public ModelFileException(String file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** Creates an exception about a file on disk. */
    public ModelFileException(Path file, String problem) {
        this(file.toString(), problem);
    }

    /** Creates an exception about a file on disk, keeping the low-level cause. */
    public ModelFileException(Path file, String problem, Throwable cause) {
        this(file.toString(), problem, cause);
    }

    /** The file (path or resource name) this exception is about. */
    public String file() {
        return file;
    }
}
