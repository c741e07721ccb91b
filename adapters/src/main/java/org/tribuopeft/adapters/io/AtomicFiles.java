package org.tribuopeft.adapters.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes files and folders so that a reader never sees a half-written result and a failed write
 * never destroys what was there before: content goes to a hidden sibling (see {@link TempSiblings}),
 * then is renamed over the target. New files and folders get the process's normal permissions (its
 * umask), and siblings left by killed writers are removed on the next write of the same target.
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
     * Writes a file atomically: the target holds either its old content or the complete new one. A
     * replaced file keeps its permissions.
     *
     * @param target the file to (re)write; its parent folder is created if missing
     * @param writer produces the content
     * @throws OutputLocationException if {@code target} is a folder
     */
    public static void write(Path target, StreamWriter writer) throws IOException {
        Path abs = target.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new OutputLocationException(abs, "is a folder; give a file path for this output");
        }
        Files.createDirectories(abs.getParent());
        TempSiblings.cleanStale(abs);
        Path tmp = TempSiblings.next(abs, TempSiblings.Kind.TMP);
        try {
            // created without explicit attributes so the umask decides, unlike Files.createTempFile's 0600
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), 1 << 16)) {
                writer.write(out);
            }
            keepPermissions(abs, tmp);
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
     * Writes a whole folder atomically, refusing to replace a folder that holds files this library did
     * not write. Same as {@link #writeFolder(Path, FolderWriter, boolean)} without overwriting.
     */
    public static void writeFolder(Path target, FolderWriter writer) throws IOException {
        writeFolder(target, writer, false);
    }

    /**
     * Writes a whole folder: files are written into a hidden sibling folder, marked with
     * {@link OutputFolder#MARKER}, which then replaces the target. A target written by this library
     * earlier is moved aside and deleted only once the new folder is in place. Files this library did not
     * write are never deleted: without {@code overwrite} such a target is refused; with it, the new
     * entries are moved in next to them (refused if one of them sits where a new entry goes).
     *
     * @param target the folder to create or replace
     * @param writer fills the folder
     * @param overwrite whether to write into a folder that also holds files this library did not write
     * @throws OutputLocationException if the target is a file, or holds files in the way
     */
    public static void writeFolder(Path target, FolderWriter writer, boolean overwrite) throws IOException {
        Path abs = target.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        TempSiblings.cleanStale(abs);
        OutputFolder.inspect(abs).checkWritable(List.of(), overwrite);
        Path tmp = TempSiblings.next(abs, TempSiblings.Kind.PART);
        // created without explicit attributes so the umask decides, unlike Files.createTempDirectory's 0700
        Files.createDirectory(tmp);
        try {
            writer.write(tmp);
            List<String> written = OutputFolder.leaves(tmp);
            OutputFolder.writeMarker(tmp, written);
            OutputFolder existing = OutputFolder.inspect(abs);
            if (existing.replaceable()) {
                replace(abs, tmp);
            } else {
                List<String> entries = topLevel(written);
                existing.checkWritable(entries, overwrite);
                moveInNextToForeign(abs, tmp, entries, existing, written);
            }
        } finally {
            deleteRecursively(tmp);
        }
    }

    /** Swaps a filled folder in for the target; the old target is restored if the swap fails. */
    private static void replace(Path abs, Path tmp) throws IOException {
        Path old = null;
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            old = TempSiblings.next(abs, TempSiblings.Kind.OLD);
            Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            if (old != null && !Files.exists(abs)) {
                Files.move(old, abs, StandardCopyOption.ATOMIC_MOVE);
                old = null;
            }
            throw e;
        } finally {
            if (old != null) {
                deleteRecursively(old);
            }
        }
    }

    /**
     * Moves each new top-level entry into a folder that also holds the user's files. Our previous entries
     * are moved aside first (into one {@link TempSiblings.Kind#OLD} sibling, deleted at the end); the
     * user's files are not touched.
     */
    private static void moveInNextToForeign(Path abs, Path tmp, List<String> entries, OutputFolder existing,
                                            List<String> written) throws IOException {
        Set<String> aside = new LinkedHashSet<>();
        for (String rel : existing.ours()) {
            aside.add(rel.contains("/") ? rel.substring(0, rel.indexOf('/')) : rel);
        }
        // a top-level folder of ours that the user put files into stays where it is
        aside.removeIf(top -> existing.foreign().stream().anyMatch(f -> f.startsWith(top + "/")));
        aside.addAll(entries);
        Path old = TempSiblings.next(abs, TempSiblings.Kind.OLD);
        Files.createDirectory(old);
        try {
            for (String top : aside) {
                if (Files.exists(abs.resolve(top), LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(abs.resolve(top), old.resolve(top), StandardCopyOption.ATOMIC_MOVE);
                }
            }
            for (String top : entries) {
                Files.move(tmp.resolve(top), abs.resolve(top), StandardCopyOption.ATOMIC_MOVE);
            }
            OutputFolder.writeMarker(abs, written);
        } finally {
            deleteRecursively(old);
        }
    }

    private static List<String> topLevel(List<String> relPaths) {
        Set<String> tops = new LinkedHashSet<>();
        for (String rel : relPaths) {
            tops.add(rel.contains("/") ? rel.substring(0, rel.indexOf('/')) : rel);
        }
        tops.remove(OutputFolder.MARKER);
        return new ArrayList<>(tops);
    }

    /** A replaced file keeps its mode, so a file the user made private stays private. */
    private static void keepPermissions(Path existing, Path tmp) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(existing, PosixFileAttributeView.class);
        if (view != null && Files.isRegularFile(existing)) {
            Files.setPosixFilePermissions(tmp, view.readAttributes().permissions());
        }
    }

    private static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes a file or folder tree; missing paths are ignored and symbolic links are not followed. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
