package org.tribuopeft.adapters.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Atomic writes never delete a user's files, give outputs normal permissions and clean up after killed writers. */
class AtomicFilesTest {

    private static void twoFiles(Path dir) throws IOException {
        Files.writeString(dir.resolve("a.txt"), "A");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub").resolve("b.txt"), "B");
    }

    @Test
    void newFilesAndFoldersGetTheUmaskPermissionsNotPrivateTempOnes(@TempDir Path tmp) throws IOException {
        Set<PosixFilePermission> fileMode = Files.getPosixFilePermissions(Files.createFile(tmp.resolve("reference")));
        Set<PosixFilePermission> dirMode = Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("refdir")));
        Path file = tmp.resolve("out.bin");
        AtomicFiles.write(file, out -> out.write(1));
        Path dir = tmp.resolve("run");
        AtomicFiles.writeFolder(dir, AtomicFilesTest::twoFiles);
        assertEquals(PosixFilePermissions.toString(fileMode), PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file)));
        assertEquals(PosixFilePermissions.toString(dirMode), PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir)));
        assertEquals(PosixFilePermissions.toString(fileMode), PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("a.txt"))));
        // under the usual umask 022 that is rw-r--r-- / rwxr-xr-x, not the 0600 / 0700 of temp files
        if (PosixFilePermissions.toString(fileMode).equals("rw-r--r--")) {
            assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        }
    }

    @Test
    void aReplacedFileKeepsItsPermissions(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("private.json"), "old");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        AtomicFiles.writeString(file, "new");
        assertEquals("new", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void aFolderHoldingFilesItDidNotWriteIsRefusedAndKept(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("mine"));
        Files.writeString(dir.resolve("notes.txt"), "my notes");
        OutputLocationException e = assertThrows(OutputLocationException.class,
                () -> AtomicFiles.writeFolder(dir, AtomicFilesTest::twoFiles));
        assertEquals(dir + ": already holds files tribuo-peft did not write (notes.txt); choose a new or empty "
                + "folder, or allow overwriting (--overwrite on the command line), which replaces only tribuo-peft's "
                + "own files and keeps these", e.getMessage());
        assertEquals("my notes", Files.readString(dir.resolve("notes.txt")));
        assertFalse(Files.exists(dir.resolve("a.txt")));
        try (var siblings = Files.list(tmp)) {
            assertEquals(1, siblings.count(), "no temporary folder is left next to the target");
        }
    }

    @Test
    void ourOwnFolderIsReplacedWithoutOverwriteAndLosesOnlyOurOldFiles(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        AtomicFiles.writeFolder(dir, d -> Files.writeString(d.resolve("old.txt"), "1"));
        AtomicFiles.writeFolder(dir, AtomicFilesTest::twoFiles);
        assertFalse(Files.exists(dir.resolve("old.txt")));
        assertEquals("B", Files.readString(dir.resolve("sub/b.txt")));
        assertEquals("# files written by tribuo-peft; others in this folder are kept\na.txt\nsub/b.txt\n",
                Files.readString(dir.resolve(OutputFolder.MARKER)));
    }

    @Test
    void overwriteWritesNextToTheUsersFilesAndKeepsThem(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("run");
        AtomicFiles.writeFolder(dir, d -> Files.writeString(d.resolve("old.txt"), "1"));
        Files.writeString(dir.resolve("notes.txt"), "my notes");
        AtomicFiles.writeFolder(dir, AtomicFilesTest::twoFiles, true);
        assertEquals("my notes", Files.readString(dir.resolve("notes.txt")));
        assertEquals("A", Files.readString(dir.resolve("a.txt")));
        assertFalse(Files.exists(dir.resolve("old.txt")), "our previous output is replaced");
        assertEquals(java.util.List.of("notes.txt"), OutputFolder.inspect(dir).foreign());
    }

    @Test
    void overwriteRefusesWhenAUsersFileSitsWhereOurOutputGoes(@TempDir Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("mine"));
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/keep.txt"), "mine");
        OutputLocationException e = assertThrows(OutputLocationException.class,
                () -> AtomicFiles.writeFolder(dir, AtomicFilesTest::twoFiles, true));
        assertTrue(e.getMessage().contains("where its output goes (sub/keep.txt); they are not deleted even with "
                + "--overwrite"), e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("sub/keep.txt")));
    }

    @Test
    void aFolderThatIsAFileIsRefused(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("run"), "data");
        OutputLocationException e = assertThrows(OutputLocationException.class,
                () -> AtomicFiles.writeFolder(file, AtomicFilesTest::twoFiles, true));
        assertEquals(file + ": is a file, not a folder; choose a folder path for this output", e.getMessage());
        assertEquals("data", Files.readString(file));
    }

    /** The id of a process that has certainly ended. */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void staleTempFolderOfAKilledWriterIsRemovedOnTheNextWrite(@TempDir Path tmp) throws Exception {
        Path stale = Files.createDirectory(tmp.resolve(".run.tribuo-peft-" + deadPid() + "-1764650000000-0badc0de.part"));
        Files.writeString(stale.resolve("model.tribuo"), "half written");
        Path notOurs = Files.createDirectory(tmp.resolve(".run.notours"));
        ProcessHandle self = ProcessHandle.current();
        long selfStart = self.info().startInstant().orElseThrow().toEpochMilli();
        Path live = Files.createDirectory(tmp.resolve(".run.tribuo-peft-" + self.pid() + "-" + selfStart
                + "-12345678.part"));
        Path otherTarget = Files.createDirectory(tmp.resolve(".runs.tribuo-peft-" + deadPid()
                + "-1764650000000-0badc0de.part"));
        AtomicFiles.writeFolder(tmp.resolve("run"), AtomicFilesTest::twoFiles);
        assertFalse(Files.exists(stale));
        assertTrue(Files.isDirectory(notOurs));
        assertTrue(Files.isDirectory(live), "a live writer's folder is kept");
        assertTrue(Files.isDirectory(otherTarget), "another target's folder is kept");
    }

    @Test
    void staleTempFileOfAKilledWriterIsRemovedOnTheNextWrite(@TempDir Path tmp) throws Exception {
        Path stale = Files.writeString(tmp.resolve(".model.onnx.tribuo-peft-" + deadPid() + "-17-00000001.tmp"), "x");
        Path notOurs = Files.writeString(tmp.resolve(".model.onnx.12345.tmp"), "y");
        AtomicFiles.writeString(tmp.resolve("model.onnx"), "onnx");
        assertFalse(Files.exists(stale));
        assertEquals("y", Files.readString(notOurs));
    }

    @Test
    void tempFoldersOfEarlierVersionsAreRemovedOnlyOnceADayOld(@TempDir Path tmp) throws Exception {
        java.nio.file.attribute.FileTime twoDaysAgo = java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(java.time.Duration.ofDays(2)));
        Path stale = Files.createDirectory(tmp.resolve(".run.1234567890123456789"));
        Files.writeString(stale.resolve("model.tribuo"), "half written");
        Files.setLastModifiedTime(stale, twoDaysAgo);
        Path staleFile = Files.writeString(tmp.resolve(".run.9876543210.tmp"), "x");
        Files.setLastModifiedTime(staleFile, twoDaysAgo);
        Path recent = Files.createDirectory(tmp.resolve(".run.5555555555555"));
        Path shortDigits = Files.createDirectory(tmp.resolve(".run.12345"));
        Files.setLastModifiedTime(shortDigits, twoDaysAgo);
        AtomicFiles.writeFolder(tmp.resolve("run"), AtomicFilesTest::twoFiles);
        assertFalse(Files.exists(stale));
        assertFalse(Files.exists(staleFile));
        assertTrue(Files.isDirectory(recent), "it may belong to a writer still running");
        assertTrue(Files.isDirectory(shortDigits), "not a Java temp name");
    }

    @Test
    void aPreviousFolderMovedAsideByAKilledWriterIsPutBack(@TempDir Path tmp) throws Exception {
        Path aside = Files.createDirectory(tmp.resolve(".run.tribuo-peft-" + deadPid() + "-17-00000002.old"));
        Files.writeString(aside.resolve("model.tribuo"), "previous");
        assertEquals(1, TempSiblings.cleanStale(tmp.resolve("run")));
        assertEquals("previous", Files.readString(tmp.resolve("run/model.tribuo")));
        assertFalse(Files.exists(aside));
    }

    @Test
    void outputLocationChecksNameThePathAtFault(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("taken.onnx"), "x");
        OutputLocationException exists = assertThrows(OutputLocationException.class,
                () -> OutputLocation.checkFile(file, false));
        assertEquals(file + ": already exists and is not replaced without permission; choose another file name, "
                + "or allow overwriting (--overwrite on the command line)", exists.getMessage());
        OutputLocation.checkFile(file, true);
        OutputLocationException below = assertThrows(OutputLocationException.class,
                () -> OutputLocation.checkFolder(file.resolve("run"), java.util.List.of("a.txt"), false));
        assertEquals(file.resolve("run") + ": " + file + " is a file, so no folder can be made inside it; choose "
                + "another path", below.getMessage());
        OutputLocationException folder = assertThrows(OutputLocationException.class,
                () -> OutputLocation.checkFile(tmp, true));
        assertEquals(tmp + ": is a folder; give a file path for this output", folder.getMessage());
        OutputLocation.checkFolder(tmp.resolve("new/run"), java.util.List.of("a.txt"), false);
        assertFalse(Files.exists(tmp.resolve("new")), "checking creates nothing");
        try (var left = Files.list(tmp)) {
            assertEquals(1, left.count(), "the probe file is removed");
        }
    }
}
