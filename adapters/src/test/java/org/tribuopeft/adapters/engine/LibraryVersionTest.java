package org.tribuopeft.adapters.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jar knows its own version, filled in by the build. */
class LibraryVersionTest {

    @Test
    void versionIsTheBuildsFilledInVersion() {
        String v = LibraryVersion.current();
        assertTrue(v.matches("\\d+\\.\\d+\\.\\d+(-[A-Za-z0-9.]+)?"), v);
    }
}
