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
        String version = buildProperty(RESOURCE, "version");
        if (version == null || version.contains("${")) {
            throw new IllegalStateException("the resource " + RESOURCE + " holds no version (" + version
                    + "); the jar was built without Maven's resource filtering");
        }
        return version;
    }

    /**
     * The git commit this jar was built from, with {@code -dirty} appended when the working tree had uncommitted
     * changes, or {@code unknown} when it was built outside a git checkout. Snapshot builds share one version
     * string, so this is what tells two of them apart when a replay differs.
     */
    public static String commit() {
        Properties build = buildProperties(RESOURCE);
        String commit = build.getProperty("commit");
        if (commit == null || !commit.matches("[0-9a-f]{40}")) {
            return "unknown";
        }
        return "true".equals(build.getProperty("dirty")) ? commit + "-dirty" : commit;
    }

    /**
     * One property of a properties file the build wrote next to this package's classes (Maven filters them),
     * or null when the file does not have it.
     *
     * @throws IllegalStateException when the file is missing from the jar
     */
    static String buildProperty(String resource, String key) {
        return buildProperties(resource).getProperty(key);
    }

    /**
     * All properties of a properties file the build wrote next to this package's classes, read once per call.
     *
     * @throws IllegalStateException when the file is missing from the jar
     */
    static Properties buildProperties(String resource) {
        Properties p = new Properties();
        try (InputStream in = LibraryVersion.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the resource " + resource + " is missing from the tribuo-peft-adapters"
                        + " jar; rebuild it with Maven");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
