package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** docs/configuration.md holds exactly the reference the code generates. */
class ConfigurationReferenceTest {

    @Test
    void documentedReferenceMatchesTheConfigFields() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "configuration.md"));
        String start = "<!-- generated:start -->\n";
        String end = "<!-- generated:end -->";
        String block = doc.substring(doc.indexOf(start) + start.length(), doc.indexOf(end));
        assertEquals(ConfigurationReference.markdown(), block,
                "docs/configuration.md is stale: regenerate it with the config-reference command");
    }
}
