package org.tribuopeft.adapters.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of tribuo-peft itself, as the build wrote it into this jar. Models record it next to the engine
 * versions because our own code decides results as much as libtorch does (how dropout masks are drawn, which
 * optimizer kernel runs), so a replay on another version can differ and its report should say so.
 */
public final class LibraryVersion {
    private static final String RESOURCE = "tribuo-peft.properties";

    private LibraryVersion() {}

    /** This jar's tribuo-peft version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String current() {
        Properties p = new Properties();
        try (InputStream in = LibraryVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + RESOURCE + " is missing from the tribuo-peft-adapters"
                        + " jar; rebuild it with Maven");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = p.getProperty("version");
        if (version == null || version.contains("${")) {
            throw new IllegalStateException("the resource " + RESOURCE + " holds no version (" + version
                    + "); the jar was built without Maven's resource filtering");
        }
        return version;
    }
}
