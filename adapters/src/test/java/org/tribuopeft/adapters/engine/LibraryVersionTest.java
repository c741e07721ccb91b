package org.tribuopeft.adapters.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jar knows its own version, filled in by the build. */
class LibraryVersionTest {

    @Test
    void versionIsTheBuildsFilledInVersion() {
        String v = LibraryVersion.current();
        assertTrue(v.matches("\\d+\\.\\d+\\.\\d+(-[A-Za-z0-9.]+)?"), v);
    }

    @Test
    void commitIsTheCheckoutsHeadWhenBuiltFromGit() throws Exception {
        String commit = LibraryVersion.commit();
        assertTrue(commit.matches("[0-9a-f]{40}(-dirty)?|unknown"), commit);
        String head;
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            head = git.waitFor() == 0 ? head : "";
        } catch (IOException noGit) {
            head = "";
        }
        if (head.matches("[0-9a-f]{40}")) {
            assertTrue(commit.startsWith(head), "built from a checkout at " + head + " but the jar says " + commit);
        }
    }
}
