package org.tribuopeft.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped CSV example configurations, run by the command-line tool on small broken CSV files as a
 * new user would: each fault stops before training with a message naming the file, the line or column
 * at fault, and what to do.
 */
class ExampleConfigDataErrorsTest {
    static final Path EXAMPLES = Paths.get("..", "docs", "examples");
    static String tiny;

    @BeforeAll
    static void backbone() {
        tiny = TinyBert.folder(21).toString();
    }

    static TribuoPeftCliTest.Run train(String config, Path csv, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--config", EXAMPLES.resolve(config).toString(),
                "--@csv.dataPath", csv.toString(), "--@trainer.backbone", tiny, "--@trainer.maxLength", "24",
                "--@trainer.epochs", "1", "--@trainer.batchSize", "8", "--@trainer.progressSeconds", "0"));
        args.addAll(List.of(more));
        return TribuoPeftCliTest.cli(args.toArray(new String[0]));
    }

    /** A CSV of {@code n} labelled rows after the header, with the given raw lines inserted after row {@code at}. */
    static Path csv(Path dir, String name, String header, int n, int at, String... inserted) throws Exception {
        List<String> lines = new ArrayList<>(List.of(header));
        for (int i = 0; i < n; i++) {
            lines.add(i % 2 == 0 ? "\"good great fine " + i + "\",pos" : "\"bad awful poor " + i + "\",neg");
            if (i + 1 == at) {
                lines.addAll(List.of(inserted));
            }
        }
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    static void assertFailsWith(TribuoPeftCliTest.Run r, String expected) {
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(expected), "expected <" + expected + "> in\n" + r.err());
        assertFalse(r.out().contains("training AdapterTrainer"), "must stop before training:\n" + r.out());
    }

    @Test
    void blankLabelStopsNamingFileAndLineInsteadOfBecomingAClass(@TempDir Path tmp) throws Exception {
        Path data = csv(tmp, "texts.csv", "text,label", 20, 4, "\"so so\",");
        assertFailsWith(train("csv-classification.xml", data), data + " line 6: the label cell is blank; fill it in, "
                + "delete the row, or set skipBlankOutputs to true (--@csv.skipBlankOutputs true) to skip such rows");
    }

    @Test
    void blankLabelsAreSkippedAndCountedWhenConfigured(@TempDir Path tmp) throws Exception {
        Path data = csv(tmp, "texts.csv", "text,label", 30, 4, "\"so so\",", "\"meh\",  ");
        Path out = tmp.resolve("run");
        TribuoPeftCliTest.Run r = train("csv-classification.xml", data, "--@csv.skipBlankOutputs", "true",
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Model<?> model = Model.deserializeFromFile(out.resolve("model.tribuo"));
        assertEquals("[neg, pos]", model.getOutputIDInfo().getDomain().toString());
        TribuoPeftCliTest.Run prov = TribuoPeftCliTest.cli("provenance", "--model", out.resolve("model.tribuo").toString());
        assertTrue(prov.out().lines().anyMatch(l -> l.endsWith("skipped-rows = 2")), prov.out());
    }

    @Test
    void blankRegressionTargetStopsNamingFileAndLine(@TempDir Path tmp) throws Exception {
        Path data = Files.writeString(tmp.resolve("scores.csv"), "text,score\n\"good\",4.5\n\"bad\",1.0\n\"meh\",\n");
        assertFailsWith(train("csv-regression.xml", data), data + " line 4: the score cell is blank");
    }

    @Test
    void nonNumericRegressionTargetNamesFileLineAndValue(@TempDir Path tmp) throws Exception {
        Path data = Files.writeString(tmp.resolve("scores.csv"), "text,score\n\"good\",4.5\n\"bad\",four\n");
        assertFailsWith(train("csv-regression.xml", data), data + " line 3: 'four' in column score is not a valid "
                + "output for RegressionFactory");
    }

    @Test
    void missingTextColumnIsReportedOnceWithTheColumnsThereAre(@TempDir Path tmp) throws Exception {
        Path data = csv(tmp, "texts.csv", "review,label", 10, 0);
        TribuoPeftCliTest.Run r = train("csv-classification.xml", data);
        assertFailsWith(r, "data file " + data + " has no column 'text' (textColumn of data source 'csv'); its "
                + "columns are [review, label]; set textColumn to one of them");
        assertFalse(r.err().contains("empty of features"), r.err());
    }

    @Test
    void semicolonSeparatedFileGetsASeparatorHint(@TempDir Path tmp) throws Exception {
        Path data = Files.writeString(tmp.resolve("texts.csv"), "text;label\ngood;pos\nbad;neg\n");
        assertFailsWith(train("csv-classification.xml", data), "its columns are [text;label]; the header looks "
                + "separated by ';': set separator (--@csv.separator ;)");
    }

    @Test
    void missingDataFileNamesThePropertyToSet(@TempDir Path tmp) {
        Path data = tmp.resolve("nope.csv");
        assertFailsWith(train("csv-classification.xml", data), "data file " + data.toAbsolutePath()
                + " (dataPath of data source 'csv') does not exist; point dataPath at your CSV file, e.g. "
                + "--@csv.dataPath my-texts.csv");
    }

    @Test
    void emptyFileAndHeaderOnlyFileSaySo(@TempDir Path tmp) throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty.csv"), "");
        assertFailsWith(train("csv-classification.xml", empty), "data file " + empty + " is empty: it needs a header "
                + "line naming its columns, then one line per example");
        Path header = Files.writeString(tmp.resolve("header.csv"), "text,label\r\n");
        assertFailsWith(train("csv-classification.xml", header), "data file " + header + " has a header [text, label] "
                + "but no rows below it");
    }

    @Test
    void rowWithAnUnquotedSeparatorNamesItsLine(@TempDir Path tmp) throws Exception {
        Path data = csv(tmp, "texts.csv", "text,label", 10, 2, "good, really good,pos");
        assertFailsWith(train("csv-classification.xml", data), data + " line 4 has 3 fields but the header has 2 "
                + "columns [text, label]");
    }

    @Test
    void blankTextNamesFileAndLineNotItsShuffledPosition(@TempDir Path tmp) throws Exception {
        Path data = csv(tmp, "texts.csv", "text,label", 20, 7, "\"  \",pos");
        assertFailsWith(train("csv-classification.xml", data), data + " line 9: the text cell is blank");
    }
}
