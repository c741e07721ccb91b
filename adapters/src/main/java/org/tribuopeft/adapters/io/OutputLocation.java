package org.tribuopeft.adapters.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;

/**
 * Checks an output file or folder before long work (training, exporting) produces what goes there, so a
 * location that cannot or must not be written is reported in seconds, not after the work is done.
 */
public final class OutputLocation {
    private OutputLocation() {}

    /**
     * Checks that a folder output can be written at {@code dir}.
     *
     * @param dir the output folder (created if missing)
     * @param entries the top-level names the output writes into it
     * @param overwrite whether the user allowed writing next to files this library did not write
     * @throws OutputLocationException naming the path at fault and what to do
     */
    public static void checkFolder(Path dir, Collection<String> entries, boolean overwrite) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        OutputFolder.inspect(abs).checkWritable(entries, overwrite);
        checkCreatable(abs);
    }

    /**
     * Checks that a file output can be written at {@code file}.
     *
     * @param file the output file (its folder is created if missing)
     * @param overwrite whether an existing file may be replaced
     * @throws OutputLocationException naming the path at fault and what to do
     */
    public static void checkFile(Path file, boolean overwrite) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            throw new OutputLocationException(abs, "is a folder; give a file path for this output");
        }
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) && !overwrite) {
            throw new OutputLocationException(abs, "already exists and is not replaced without permission; choose "
                    + "another file name, or allow overwriting (--overwrite on the command line)");
        }
        checkCreatable(abs);
    }

    /** Checks that the folder holding {@code abs} exists or can be created, and that files can be made in it. */
    private static void checkCreatable(Path abs) throws IOException {
        Path parent = abs.getParent();
        Path child = abs;
        Path existing = parent;
        while (existing != null && !Files.exists(existing)) {
            child = existing;
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new OutputLocationException(abs, "no part of this path exists; give a path on a mounted file system");
        }
        if (!Files.isDirectory(existing)) {
            throw new OutputLocationException(abs, existing + " is a file, so no folder can be made inside it; "
                    + "choose another path");
        }
        // a real file is made and removed: permission bits alone miss read-only mounts and ACLs
        Path probe = TempSiblings.next(child, TempSiblings.Kind.TMP);
        try {
            Files.newOutputStream(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        } catch (IOException e) {
            throw new OutputLocationException(abs, "cannot write in " + existing + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); choose a folder you can write to");
        } finally {
            Files.deleteIfExists(probe);
        }
    }
}
