package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Adapter ids name entries inside the configured folders and nothing else. */
class AdapterDirectoryTest {

    @Test
    void idsResolveToTheThreeLayoutsInFolderOrder(@TempDir Path tmp) throws Exception {
        Path first = Files.createDirectories(tmp.resolve("first"));
        Path second = Files.createDirectories(tmp.resolve("second"));
        Files.writeString(first.resolve("a.tribuo"), "x");
        Files.createDirectories(second.resolve("a"));
        Files.writeString(second.resolve("a").resolve("model.tribuo"), "x");
        Files.createDirectories(second.resolve("b"));
        Files.writeString(second.resolve("b").resolve("model.tribuo"), "x");
        Files.createDirectories(second.resolve("c"));
        Files.writeString(second.resolve("c").resolve("adapter_config.json"), "{}");
        Files.createDirectories(second.resolve("not-an-adapter"));
        AdapterDirectory d = new AdapterDirectory(List.of(first, second));
        assertEquals(first.toRealPath().resolve("a.tribuo"), d.resolve("a").orElseThrow().path());
        assertEquals(AdapterDirectory.Kind.TRIBUO, d.resolve("b").orElseThrow().kind());
        assertEquals(AdapterDirectory.Kind.PEFT, d.resolve("c").orElseThrow().kind());
        assertTrue(d.resolve("not-an-adapter").isEmpty());
        assertEquals(List.of("a", "b", "c"), d.list().stream().map(AdapterDirectory.Entry::id).toList());
    }

    @Test
    void pathsAndLinksOutOfTheFolderAreRefused(@TempDir Path tmp) throws Exception {
        Path served = Files.createDirectories(tmp.resolve("served"));
        Path secret = Files.writeString(tmp.resolve("secret.tribuo"), "not yours");
        Files.createSymbolicLink(served.resolve("escape.tribuo"), secret);
        Files.writeString(tmp.resolve("model.tribuo"), "not yours either");
        Files.createSymbolicLink(served.resolve("outside"), tmp); // outside/model.tribuo exists, through the link
        AdapterDirectory d = new AdapterDirectory(List.of(served));
        for (String bad : List.of("../secret", "../../etc/passwd", "..", "a/b", "/etc/passwd", ".hidden", "", "a..b")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.resolve(bad), bad);
            assertTrue(e.getMessage().contains("is not a plain name"), e.getMessage());
        }
        // well-formed ids whose entries are links leaving the folder name nothing
        assertTrue(d.resolve("escape").isEmpty());
        assertTrue(d.resolve("outside").isEmpty());
        assertTrue(d.list().isEmpty());
    }

    @Test
    void aMissingFolderIsNamed(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AdapterDirectory(List.of(tmp.resolve("nope"))));
        assertEquals("adapter folder '" + tmp.resolve("nope") + "' does not exist or is not a folder", e.getMessage());
    }
}
