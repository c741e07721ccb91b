package org.tribuopeft.adapters.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What an existing output folder holds, told apart by the marker file this library writes into every
 * folder it creates: the marker lists each file written, so anything else in the folder is the user's
 * and is never deleted.
 *
 * @param folder the folder inspected
 * @param ours the files (relative paths, {@code /}-separated) the marker lists and that are present
 * @param foreign every other file or empty folder, relative, sorted
 */
public record OutputFolder(Path folder, List<String> ours, List<String> foreign) {
    /** The marker file: one relative path per line, after a header line. */
    public static final String MARKER = ".tribuo-peft-output";

    private static final String HEADER = "# files written by tribuo-peft; others in this folder are kept";

    /**
     * Inspects a folder; a missing one is empty.
     *
     * @throws OutputLocationException if {@code folder} is a file
     */
    public static OutputFolder inspect(Path folder) throws IOException {
        if (!Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
            return new OutputFolder(folder, List.of(), List.of());
        }
        if (!Files.isDirectory(folder)) {
            throw new OutputLocationException(folder, "is a file, not a folder; choose a folder path for this output");
        }
        Set<String> listed = new TreeSet<>();
        Path marker = folder.resolve(MARKER);
        boolean marked = false;
        if (Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            List<String> lines = Files.readAllLines(marker, StandardCharsets.UTF_8);
            marked = !lines.isEmpty() && lines.get(0).equals(HEADER);
            for (String line : marked ? lines.subList(1, lines.size()) : List.<String>of()) {
                if (!line.isBlank()) {
                    listed.add(line.strip());
                }
            }
        }
        List<String> ours = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        for (String rel : leaves(folder)) {
            if (rel.equals(MARKER) && marked) {
                continue;
            }
            (listed.contains(rel) ? ours : foreign).add(rel);
        }
        return new OutputFolder(folder, List.copyOf(ours), List.copyOf(foreign));
    }

    /** True when the folder holds nothing but files this library wrote (or nothing at all). */
    public boolean replaceable() {
        return foreign.isEmpty();
    }

    /**
     * The foreign files that sit where a new output's top-level entries go, and so block writing next to
     * them.
     *
     * @param entries the top-level names the new output writes
     */
    public List<String> inTheWayOf(Collection<String> entries) {
        List<String> blocking = new ArrayList<>();
        for (String rel : foreign) {
            String top = rel.contains("/") ? rel.substring(0, rel.indexOf('/')) : rel;
            if (entries.contains(top) || top.equals(MARKER)) {
                blocking.add(rel);
            }
        }
        return blocking;
    }

    /**
     * Checks that an output with the given top-level entries may be written here.
     *
     * @param entries the top-level names the output writes
     * @param overwrite whether the user allowed writing next to files this library did not write
     * @throws OutputLocationException naming the files in the way
     */
    public void checkWritable(Collection<String> entries, boolean overwrite) throws OutputLocationException {
        if (foreign.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new OutputLocationException(folder, "already holds files tribuo-peft did not write (" + sample(foreign)
                    + "); choose a new or empty folder, or allow overwriting (--overwrite on the command line), "
                    + "which replaces only tribuo-peft's own files and keeps these");
        }
        List<String> blocking = inTheWayOf(entries);
        if (!blocking.isEmpty()) {
            throw new OutputLocationException(folder, "holds files that tribuo-peft did not write where its output "
                    + "goes (" + sample(blocking) + "); they are not deleted even with --overwrite: move or delete "
                    + "them yourself, or choose another folder");
        }
    }

    /** Writes the marker listing every file now in {@code folder} (call it last). */
    static void writeMarker(Path folder) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (String rel : leaves(folder)) {
            if (!rel.equals(MARKER)) {
                sb.append(rel).append('\n');
            }
        }
        Files.writeString(folder.resolve(MARKER), sb.toString(), StandardCharsets.UTF_8);
    }

    /** Marks {@code folder} as written by us, listing only {@code ours} (relative paths). */
    static void writeMarker(Path folder, Collection<String> ours) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        new TreeSet<>(ours).forEach(rel -> sb.append(rel).append('\n'));
        Files.writeString(folder.resolve(MARKER), sb.toString(), StandardCharsets.UTF_8);
    }

    /** Every file, link and empty folder under {@code folder}, relative and {@code /}-separated, sorted. */
    static List<String> leaves(Path folder) throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.toList()) {
                if (p.equals(folder)) {
                    continue;
                }
                boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if (dir) {
                    try (Stream<Path> inside = Files.list(p)) {
                        if (inside.findAny().isPresent()) {
                            continue;
                        }
                    }
                }
                out.add(folder.relativize(p).toString().replace(java.io.File.separatorChar, '/'));
            }
        }
        return new ArrayList<>(out);
    }

    private static String sample(List<String> files) {
        int shown = Math.min(5, files.size());
        String list = String.join(", ", files.subList(0, shown));
        return files.size() > shown ? list + " and " + (files.size() - shown) + " more" : list;
    }
}
