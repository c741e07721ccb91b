package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mistakes in the configuration or its overrides, made on the shipped example configurations: each error
 * names the configuration file, the component and property at fault, and what there is to choose from.
 */
class ConfigurationErrorsTest {
    static final String IMDB = Paths.get("..", "docs", "examples", "imdb-pipeline.xml").toString();
    static final String CSV = Paths.get("..", "docs", "examples", "csv-classification.xml").toString();

    static void assertError(TribuoPeftCliTest.Run r, int code, String expected) {
        assertEquals(code, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected), "expected <" + expected + "> in\n" + r.err());
    }

    @Test
    void unknownMethodListsTheConfiguredMethodsAndTheMethodTypes() {
        assertError(TribuoPeftCliTest.cli("train", "--config", IMDB, "--@trainer.method", "qlora"), 1,
                "configuration " + IMDB + ", component 'trainer', property method: unknown method 'qlora'; the methods "
                        + "this configuration defines are [adalora, dora, full, lora, prefix, prompt, relora, vera]. A "
                        + "method is a component of type " + String.join(", ", org.tribuopeft.adapters.method.MethodRegistry
                        .all().stream().map(d -> d.configClass().getSimpleName()).toList())
                        + " (package org.tribuopeft.adapters)");
    }

    @Test
    void misspeltPropertyOverrideListsTheComponentsProperties() {
        TribuoPeftCliTest.Run r = TribuoPeftCliTest.cli("train", "--config", CSV, "--@trainer.lerningRate", "0.1");
        assertError(r, 1, "configuration " + CSV + ": the override --@trainer.lerningRate names a property "
                + "'lerningRate' that component 'trainer' (AdapterTrainer) does not have; its properties are [");
        assertTrue(r.err().contains("learningRate"), r.err());
    }

    @Test
    void overrideOfAnUnknownComponentListsTheComponents() {
        assertError(TribuoPeftCliTest.cli("train", "--config", CSV, "--@texts.dataPath", "x.csv"), 1,
                "configuration " + CSV + ": the override --@texts.dataPath names a component 'texts' the file does "
                        + "not define; its components are [csv, label-factory, lora, pipeline, trainer]");
    }

    @Test
    void invalidValueNamesFileComponentAndProperty() {
        assertError(TribuoPeftCliTest.cli("train", "--config", CSV, "--@trainer.epochs", "0"), 1,
                "configuration " + CSV + ": component 'trainer', property epochs: epochs must be positive, found 0");
        assertError(TribuoPeftCliTest.cli("train", "--config", CSV, "--@trainer.epochs", "three"), 1,
                "configuration " + CSV + ": Component: trainer, Property: epochs, three is not an integer");
    }

    @Test
    void anUnknownComputePrecisionNamesFileComponentAndProperty() {
        assertError(TribuoPeftCliTest.cli("train", "--config", IMDB, "--@trainer.computePrecision", "fp16"), 1,
                "configuration " + IMDB + ": component 'trainer', property computePrecision: computePrecision must be "
                        + "float32 or bfloat16, found 'fp16'");
    }

    @Test
    void missingOrForeignConfigurationFileAndMissingPipelineSaySo() {
        Path nope = Paths.get("nope.xml");
        assertError(TribuoPeftCliTest.cli("train", "--config", "nope.xml"), 2,
                "configuration file " + nope.toAbsolutePath() + " does not exist");
        assertError(TribuoPeftCliTest.cli("train", "--config", "../README.md"), 2,
                "configuration file ../README.md is neither .xml nor .json");
        assertError(TribuoPeftCliTest.cli("train", "--config", CSV, "--pipeline", "main"), 2,
                "configuration " + CSV + " has no component named 'main'; its components are [csv, label-factory, "
                        + "lora, pipeline, trainer]");
    }

    /** The CSV example with one edit, as a user's own copy. */
    static Path edited(Path dir, String from, String to) throws Exception {
        String xml = Files.readString(Paths.get(CSV));
        if (!xml.contains(from)) {
            throw new IllegalStateException("the example no longer contains " + from);
        }
        return Files.writeString(dir.resolve("mine.xml"), xml.replace(from, to));
    }

    @Test
    void misspeltPropertyInTheFileListsTheComponentsProperties(@TempDir Path tmp) throws Exception {
        Path config = edited(tmp, "name=\"learningRate\"", "name=\"lerningRate\"");
        TribuoPeftCliTest.Run r = TribuoPeftCliTest.cli("train", "--config", config.toString());
        assertError(r, 1, "configuration " + config + ": component 'trainer' (AdapterTrainer) has no property "
                + "'lerningRate'; its properties are [");
        assertTrue(r.err().contains(", learningRate, "), r.err());
    }

    @Test
    void misspeltComponentTypeIsNamed(@TempDir Path tmp) throws Exception {
        Path config = edited(tmp, "org.tribuopeft.plugin.data.TextCsvDataSource", "org.tribuopeft.plugin.data.CsvSource");
        assertError(TribuoPeftCliTest.cli("train", "--config", config.toString(), "--@csv.dataPath", "x.csv"), 1,
                "configuration " + config + ": component 'csv' has type org.tribuopeft.plugin.data.CsvSource, which is "
                        + "not a class on the class path; check its spelling");
    }
}
