package org.tribuopeft.adapters.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names the hidden siblings that atomic writes use ({@code .NAME.tribuo-peft-PID-START-RANDOM.KIND}) and
 * removes the ones a killed writer left behind. The writer's process id and start time are in the name,
 * so a sibling is only removed when that exact process is gone: a live writer's sibling, or any file
 * whose name does not follow the pattern for the target, is never touched. Siblings named by earlier
 * versions (Java's temp names, with no owner recorded) are removed once a day old.
 */
public final class TempSiblings {
    /** What a sibling holds. */
    public enum Kind {
        /** A file being written. */
        TMP,
        /** A folder being filled. */
        PART,
        /** The previous folder, moved aside while the new one is put in place. */
        OLD;

        String suffix() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static final ProcessHandle SELF = ProcessHandle.current();
    private static final long SELF_START = SELF.info().startInstant().map(Instant::toEpochMilli).orElse(0L);

    private TempSiblings() {}

    /** A fresh sibling path of {@code target} for this process (not created). */
    public static Path next(Path target, Kind kind) {
        String random = String.format(java.util.Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
        return target.resolveSibling("." + target.getFileName() + ".tribuo-peft-" + SELF.pid() + "-" + SELF_START
                + "-" + random + "." + kind.suffix());
    }

    /**
     * Versions before the process id was in the name used Java's temp names ({@code .NAME.DIGITS},
     * {@code .NAME.old.DIGITS}, {@code .NAME.DIGITS.tmp}); with no owner to ask, those are stale once
     * untouched for this long.
     */
    static final java.time.Duration LEGACY_AGE = java.time.Duration.ofHours(24);

    /** The pattern of every sibling of {@code target}, whatever the writer. */
    static Pattern pattern(Path target) {
        return Pattern.compile("\\." + Pattern.quote(target.getFileName().toString())
                + "\\.tribuo-peft-(\\d+)-(\\d+)-[0-9a-f]{8}\\.(tmp|part|old)");
    }

    /**
     * Removes the siblings of {@code target} left by writers that are no longer running. A folder that a
     * killed writer had moved aside ({@link Kind#OLD}) is put back when the target is missing, since it
     * is then the only copy of the previous output.
     *
     * @return how many siblings were removed or restored
     */
    public static int cleanStale(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return 0;
        }
        Pattern p = pattern(abs);
        Pattern legacy = legacyPattern(abs);
        int cleaned = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                Matcher m = p.matcher(name);
                Matcher l = legacy.matcher(name);
                boolean old;
                if (m.matches() && writerGone(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))) {
                    old = m.group(3).equals("old");
                } else if (l.matches() && legacyStale(entry, l.group(2) != null)) {
                    old = l.group(1) != null;
                } else {
                    continue;
                }
                if (old && !Files.exists(abs)) {
                    Files.move(entry, abs, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    try {
                        AtomicFiles.deleteRecursively(entry);
                    } catch (NoSuchFileException e) {
                        // another writer of the same target cleaned it first
                    }
                }
                cleaned++;
            }
        }
        return cleaned;
    }

    /** Java's temp names as earlier versions used them: group 1 marks a moved-aside folder, group 2 a file. */
    static Pattern legacyPattern(Path target) {
        return Pattern.compile("\\." + Pattern.quote(target.getFileName().toString())
                + "\\.(?:(old\\.)\\d{10,20}|\\d{10,20}(\\.tmp)?)");
    }

    /** A legacy sibling of the right kind (file or folder) that nobody has touched for {@link #LEGACY_AGE}. */
    private static boolean legacyStale(Path entry, boolean file) throws IOException {
        boolean right = file ? Files.isRegularFile(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                : Files.isDirectory(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return right && Files.getLastModifiedTime(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant()
                .isBefore(Instant.now().minus(LEGACY_AGE));
    }

    /**
     * True when the process that made a sibling has ended: no process has its id, or the one that has
     * it started at another time (the id was reused).
     */
    static boolean writerGone(long pid, long startMillis) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return true;
        }
        Optional<Instant> start = h.get().info().startInstant();
        return start.isPresent() && startMillis != 0 && start.get().toEpochMilli() != startMillis;
    }
}
