package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profile window of {@code step-benchmark --profile} must fit inside the run, or it is refused up front. */
class OpProfileTest {

    @Test
    void windowEndingAtTheLastStepIsAccepted() {
        assertDoesNotThrow(() -> new OpProfile(Path.of("trace.json"), 26, 4, 30));
        assertDoesNotThrow(() -> new OpProfile(Path.of("trace.json"), 0, 1, 1));
    }

    @Test
    void windowRunningPastTheLastStepIsRefusedNamingBothOptions() {
        CliException e = assertThrows(CliException.class, () -> new OpProfile(Path.of("trace.json"), 27, 4, 30));
        assertTrue(e.getMessage().contains("--profile-from 27"), e.getMessage());
        assertTrue(e.getMessage().contains("--profile-steps 4"), e.getMessage());
        assertTrue(e.getMessage().contains("30 steps"), e.getMessage());
    }

    @Test
    void negativeStartOrEmptyWindowIsRefused() {
        assertThrows(CliException.class, () -> new OpProfile(Path.of("trace.json"), -1, 4, 30));
        assertThrows(CliException.class, () -> new OpProfile(Path.of("trace.json"), 4, 0, 30));
    }
}
