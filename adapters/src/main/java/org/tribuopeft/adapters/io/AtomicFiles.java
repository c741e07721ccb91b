package org.tribuopeft.adapters.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes files and folders so that a reader never sees a half-written result and a failed write
 * never destroys what was there before: content goes to a temporary sibling, then is renamed over
 * the target.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes to an output stream; the stream is closed by the caller of this callback. */
    @FunctionalInterface
    public interface StreamWriter {
        /** Writes the whole content to {@code out}. */
        void write(OutputStream out) throws IOException;
    }

    /** Fills a fresh folder; called with an empty temporary folder that becomes the target. */
    @FunctionalInterface
    public interface FolderWriter {
        /** Writes every file of the folder into {@code dir}. */
        void write(Path dir) throws IOException;
    }

    /**
     * Writes a file atomically: the target holds either its old content or the complete new one.
     *
     * @param target the file to (re)write; its parent folder is created if missing
     * @param writer produces the content
     */
    public static void write(Path target, StreamWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                writer.write(out);
            }
            moveIntoPlace(tmp, abs);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes a UTF-8 text file atomically. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Writes a whole folder atomically: files are written into a temporary sibling folder which then
     * replaces the target. An existing target is moved aside first and deleted only once the new
     * folder is in place.
     *
     * @param target the folder to create or replace
     * @param writer fills the folder
     */
    public static void writeFolder(Path target, FolderWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + abs.getFileName() + ".");
        Path old = null;
        try {
            writer.write(tmp);
            if (Files.exists(abs)) {
                if (!Files.isDirectory(abs)) {
                    throw new IOException(abs + " exists and is not a folder; refusing to replace it");
                }
                old = Files.createTempDirectory(parent, "." + abs.getFileName() + ".old.");
                Files.delete(old);
                Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException | RuntimeException e) {
            if (old != null && !Files.exists(abs)) {
                Files.move(old, abs, StandardCopyOption.ATOMIC_MOVE);
                old = null;
            }
            throw e;
        } finally {
            if (tmp != null) {
                deleteRecursively(tmp);
            }
            if (old != null) {
                deleteRecursively(old);
            }
        }
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a file or folder tree; missing paths are ignored. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
