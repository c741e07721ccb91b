package org.tribuopeft.adapters.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The layout of a checkpoint folder: one {@code checkpoint-<step>/} folder per checkpoint holding
 * {@value #MANIFEST} and {@value #TENSORS}. Only names of this exact form (and our own temporary
 * {@code .checkpoint-<step>.tmp-*} folders) are ever touched; anything else a user keeps beside them
 * is left alone.
 */
public final class CheckpointFolder {
    /** The manifest: scalars, fingerprint and checksums, as JSON. */
    public static final String MANIFEST = "checkpoint.json";
    /** The tensors: parameters, optimizer moments, method state, best-epoch snapshot. */
    public static final String TENSORS = "state.safetensors";

    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d{1,9})");
    private static final Pattern TEMPORARY = Pattern.compile("\\.checkpoint-\\d{1,9}\\.(tmp|old)-.*");

    private CheckpointFolder() {}

    /** One checkpoint folder and the global step it was taken after. */
    public record Entry(int step, Path path) {}

    /** The folder of the checkpoint taken after {@code step}. */
    public static Path of(Path directory, int step) {
        return directory.resolve("checkpoint-" + step);
    }

    /** Our checkpoint folders in {@code directory}, newest (highest step) first; empty when there is none. */
    public static List<Entry> list(Path directory) throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return out;
        }
        try (Stream<Path> s = Files.list(directory)) {
            for (Path p : s.toList()) {
                Matcher m = CHECKPOINT.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    out.add(new Entry(Integer.parseInt(m.group(1)), p));
                }
            }
        }
        out.sort(Comparator.comparingInt(Entry::step).reversed());
        return out;
    }

    /** Our half-written or set-aside folders left by a run that was killed while saving. */
    static List<Path> leftovers(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(directory)) {
            return s.filter(p -> TEMPORARY.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .toList();
        }
    }
}
