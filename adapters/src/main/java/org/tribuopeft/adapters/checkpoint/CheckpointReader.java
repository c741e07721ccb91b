package org.tribuopeft.adapters.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.io.Sha256;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Finds and reads checkpoints. Every file is checked against the SHA-256 recorded for it before it is
 * trusted; a torn or corrupt checkpoint is skipped with a notice saying which and why, and the next
 * older one is tried.
 */
public final class CheckpointReader {
    private CheckpointReader() {}

    /**
     * A checkpoint that passed every check.
     *
     * @param folder its folder
     * @param state its content
     */
    public record Loaded(Path folder, TrainingState state) {}

    /**
     * The newest valid checkpoint in a checkpoint folder.
     *
     * @param directory the folder holding {@code checkpoint-<step>} folders
     * @param notices receives one line per skipped checkpoint
     * @throws CheckpointException when the folder holds no checkpoint or none is valid
     */
    public static Loaded newestValid(Path directory, Consumer<String> notices) {
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException("cannot resume: " + directory + " is not a folder; give the checkpointDir of "
                    + "the interrupted run");
        }
        List<CheckpointFolder.Entry> entries;
        try {
            entries = CheckpointFolder.list(directory);
        } catch (IOException e) {
            throw new CheckpointException("cannot resume: cannot list " + directory + ": " + e.getMessage(), e);
        }
        if (entries.isEmpty()) {
            throw new CheckpointException("cannot resume: " + directory + " holds no checkpoint-<step> folder; give the "
                    + "checkpointDir of the interrupted run");
        }
        List<String> reasons = new ArrayList<>();
        for (CheckpointFolder.Entry e : entries) {
            try {
                return new Loaded(e.path(), read(e.path()));
            } catch (CheckpointException ex) {
                reasons.add(e.path().getFileName() + ": " + ex.getMessage());
                notices.accept("warning: skipping checkpoint " + e.path() + ": " + ex.getMessage()
                        + "; trying the previous one");
            }
        }
        throw new CheckpointException("cannot resume: none of the " + entries.size() + " checkpoints in " + directory
                + " is valid (" + String.join("; ", reasons) + "); start the run again without resuming");
    }

    /**
     * Reads and verifies one checkpoint folder.
     *
     * @throws CheckpointException saying which file is missing, unreadable or fails its checksum
     */
    public static TrainingState read(Path folder) {
        Path manifest = folder.resolve(CheckpointFolder.MANIFEST);
        Path tensors = folder.resolve(CheckpointFolder.TENSORS);
        if (!Files.isRegularFile(manifest)) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " is missing");
        }
        JsonNode root;
        try {
            root = ManifestCodec.JSON.readTree(Files.readAllBytes(manifest));
        } catch (IOException e) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " cannot be parsed (" + firstLine(e) + ")");
        }
        if (root == null || !ManifestCodec.FORMAT.equals(root.path("format").asText())) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " is not a tribuo-peft checkpoint manifest");
        }
        if (root.path("version").asInt() != ManifestCodec.VERSION) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " has format version " + root.path("version")
                    + "; this release reads version " + ManifestCodec.VERSION);
        }
        JsonNode state = root.get("state");
        try {
            String recorded = root.path("stateSha256").asText();
            String actual = state == null ? "" : Sha256.of(ManifestCodec.JSON.writeValueAsBytes(state));
            if (state == null || !recorded.equals(actual)) {
                throw new CheckpointException(CheckpointFolder.MANIFEST + " fails its SHA-256 check");
            }
        } catch (IOException e) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " cannot be checked (" + firstLine(e) + ")");
        }
        if (!Files.isRegularFile(tensors)) {
            throw new CheckpointException(CheckpointFolder.TENSORS + " is missing");
        }
        try {
            String recorded = state.path("tensorsSha256").asText();
            String actual = Sha256.ofFile(tensors);
            if (!recorded.equals(actual)) {
                throw new CheckpointException(CheckpointFolder.TENSORS + " fails its SHA-256 check (recorded "
                        + abbreviate(recorded) + ", found " + abbreviate(actual) + ")");
            }
            return ManifestCodec.decode(state, SafetensorsReader.read(tensors).floats());
        } catch (IOException e) {
            throw new CheckpointException(CheckpointFolder.TENSORS + " cannot be read (" + firstLine(e) + ")");
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(CheckpointFolder.MANIFEST + " is inconsistent: " + e.getMessage());
        }
    }

    private static String abbreviate(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) + "..." : sha;
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
