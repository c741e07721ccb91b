package org.tribuopeft.adapters.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.io.Sha256;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Saves checkpoints so that a crash at any moment leaves either the complete new checkpoint or none:
 * both files are written into a temporary sibling folder, flushed to disk (fsync), and the folder is
 * renamed into place; only then are older checkpoints beyond the configured count deleted. Each file's
 * SHA-256 is recorded in the manifest, and the manifest's own state in the manifest too.
 */
public final class CheckpointWriter {
    private final CheckpointSettings settings;

    /**
     * Creates a writer.
     *
     * @param settings where to write and how many to keep; must be enabled
     */
    public CheckpointWriter(CheckpointSettings settings) {
        if (!settings.enabled()) {
            throw new IllegalArgumentException("checkpoints are off: no directory given");
        }
        this.settings = settings;
    }

    /**
     * Refuses to start a fresh run in a folder that already holds checkpoints, which would otherwise be
     * mixed with (and pruned in favour of) the new run's.
     *
     * @throws CheckpointException naming the folder and the newest checkpoint found
     */
    public void requireNoCheckpoints() {
        try {
            List<CheckpointFolder.Entry> existing = CheckpointFolder.list(settings.directory());
            if (!existing.isEmpty()) {
                throw new CheckpointException("checkpoint folder " + settings.directory() + " already holds "
                        + existing.size() + " checkpoint(s), the newest " + existing.get(0).path().getFileName()
                        + "; resume from it (train --resume " + settings.directory() + ", or the trainer's resumeFrom) "
                        + "or choose an empty checkpointDir");
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot list checkpoint folder " + settings.directory() + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * Saves one checkpoint as {@code checkpoint-<globalStep>} and prunes old ones.
     *
     * @return the checkpoint's folder
     * @throws CheckpointException when it cannot be written (the message names the folder and the cause)
     */
    public Path save(TrainingState state) {
        Path dir = settings.directory();
        Path target = CheckpointFolder.of(dir, state.globalStep());
        try {
            Files.createDirectories(dir);
            for (Path leftover : CheckpointFolder.leftovers(dir)) {
                AtomicFiles.deleteRecursively(leftover);
            }
            Path tmp = Files.createTempDirectory(dir, ".checkpoint-" + state.globalStep() + ".tmp-");
            try {
                Path tensors = tmp.resolve(CheckpointFolder.TENSORS);
                SafetensorsWriter.write(tensors, ManifestCodec.tensors(state), Map.of("content", "training checkpoint"));
                forceFile(tensors);
                ObjectNode body = ManifestCodec.encode(state, Sha256.ofFile(tensors));
                ObjectNode root = ManifestCodec.JSON.createObjectNode();
                root.put("format", ManifestCodec.FORMAT);
                root.put("version", ManifestCodec.VERSION);
                root.set("state", body);
                root.put("stateSha256", Sha256.of(ManifestCodec.JSON.writeValueAsBytes(body)));
                writeSynced(tmp.resolve(CheckpointFolder.MANIFEST),
                        ManifestCodec.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
                forceDirectory(tmp);
                replace(tmp, target);
            } finally {
                AtomicFiles.deleteRecursively(tmp);
            }
            forceDirectory(dir);
            prune(state.globalStep());
        } catch (IOException e) {
            throw new CheckpointException("could not save checkpoint " + target + ": " + e.getMessage()
                    + "; free disk space or choose another checkpointDir", e);
        }
        return target;
    }

    /** Moves a finished temporary folder over the target, setting aside a stale one of ours first. */
    private static void replace(Path tmp, Path target) throws IOException {
        Path aside = null;
        if (Files.exists(target)) {
            aside = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(aside);
            Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        if (aside != null) {
            AtomicFiles.deleteRecursively(aside);
        }
    }

    /**
     * Keeps the newest {@code kept} checkpoints up to {@code currentStep}; checkpoints beyond it are
     * stale leftovers of the interrupted run this one resumed (they failed validation, or resuming
     * would have used them) and are replaced by this run's own.
     */
    private void prune(int currentStep) throws IOException {
        int kept = 0;
        for (CheckpointFolder.Entry e : CheckpointFolder.list(settings.directory())) {
            if (e.step() > currentStep || kept >= settings.kept()) {
                AtomicFiles.deleteRecursively(e.path());
            } else {
                kept++;
            }
        }
    }

    private static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    private static void forceFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Flushes a folder's entries (the renames); not every platform allows it, and there it is skipped. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Windows cannot open a folder as a channel; its renames are durable without it
        }
    }
}
