package org.tribuopeft.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's peak resident memory (Linux {@code VmHWM}), resettable so that each of several runs in one process
 * gets its own peak: writing 5 to {@code /proc/self/clear_refs} sets the peak back to the current resident size.
 */
final class PeakMemory {
    private PeakMemory() {}

    /** Starts a new peak at the current resident size; returns false where the system does not support it. */
    static boolean reset() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** The peak resident memory since the last {@link #reset} (or the process start), in MiB; -1 where unknown. */
    static long peakMiB() {
        return MethodBenchmark.peakRssMiB();
    }
}
