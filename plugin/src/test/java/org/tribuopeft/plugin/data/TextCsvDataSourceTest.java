package org.tribuopeft.plugin.data;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.regression.RegressionFactory;
import org.tribuopeft.plugin.TextExamples;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Reading text CSV files as spreadsheets and editors write them, and the provenance of what was read. */
class TextCsvDataSourceTest {

    static List<String> describe(TextCsvDataSource<Label> source) {
        List<String> out = new ArrayList<>();
        for (Example<Label> e : source) {
            out.add(e.getMetadataValue(TextExamples.SOURCE_KEY).orElseThrow() + " | " + e.getMetadataValue("text")
                    .orElseThrow() + " | " + e.getOutput().getLabel());
        }
        return out;
    }

    @Test
    void byteOrderMarkCrlfQuotedNewlinesAndBlankLinesAreReadAsWritten(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("texts.csv");
        Files.write(file, ("\uFEFFtext,label\r\n\"line one\r\nline two\",pos\r\n\"a, b\",neg\r\n\r\n"
                + "\"say \"\"hi\"\"\",pos\r\n").getBytes(StandardCharsets.UTF_8));
        TextCsvDataSource<Label> source = new TextCsvDataSource<>(file, new LabelFactory(), "text", "label");
        assertEquals(List.of(file + " line 2 | line one\nline two | pos", file + " line 4 | a, b | neg",
                file + " line 6 | say \"hi\" | pos"), describe(source));
    }

    @Test
    void blankCellAfterAMultiLineTextNamesItsOwnLine(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.csv"), "text,label\n\"one\ntwo\nthree\",pos\n\"four\",\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextCsvDataSource<>(file, new LabelFactory(), "text", "label"));
        assertEquals(file + " line 5: the label cell is blank; fill it in, delete the row, or set skipBlankOutputs to "
                + "true (--@source.skipBlankOutputs true) to skip such rows", e.getMessage());
        assertEquals(file, e.file());
    }

    @Test
    void skippedRowsAreCountedInProvenanceThatSurvivesJson(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.csv"), "text,label\ngood,pos\nso so,\nbad,neg\nmeh, \n");
        List<String> warnings = new ArrayList<>();
        Logger log = Logger.getLogger(TextRows.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record.getLevel() + " " + record.getMessage());
            }

            @Override
            public void flush() { }

            @Override
            public void close() { }
        };
        log.addHandler(handler);
        TextCsvDataSource<Label> source;
        try {
            source = new TextCsvDataSource<>(file, new LabelFactory(), "text", "label", true);
        } finally {
            log.removeHandler(handler);
        }
        assertEquals(List.of("WARNING " + file + ": skipped 2 row(s) with a blank label cell (lines 3, 5)"), warnings);
        assertEquals(2, source.skippedRows());
        assertEquals(List.of(file + " line 2 | good | pos", file + " line 4 | bad | neg"), describe(source));
        TextFileProvenance p = (TextFileProvenance) source.getProvenance();
        assertEquals(2, p.skippedRows());
        JsonProvenanceSerialization json = new JsonProvenanceSerialization(true);
        ObjectProvenance back = json.deserializeAndUnmarshal(json.marshalAndSerialize(p));
        assertEquals(p, back);
    }

    @Test
    void tabSeparatedFileReadWithTheDefaultSeparatorGetsATabHint(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.tsv"), "text\tlabel\ngood\tpos\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextCsvDataSource<>(file, new LabelFactory(), "text", "label"));
        assertEquals("data file " + file + " has no column 'text' (textColumn of data source ''); its columns are "
                + "[text\tlabel]; the header looks separated by tabs: set separator to a tab (&#9; in XML)",
                e.getMessage());
    }

    @Test
    void nonFiniteRegressionTargetNamesLine(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("scores.csv"), "text,score\ngood,4.5\nbad,NaN\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextCsvDataSource<>(file, new RegressionFactory(), "text", "score"));
        assertEquals(file + " line 3: 'NaN' in column score is not a finite number", e.getMessage());
    }

    @Test
    void unterminatedQuoteIsNotValidCsv(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.csv"), "text,label\ngood,pos\n\"never closed,neg\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextCsvDataSource<>(file, new LabelFactory(), "text", "label"));
        assertEquals(file + " is not valid CSV: the quote opened in the row starting on line 3 is never closed; close "
                + "it, or write a quote inside a text as two quotes", e.getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void semicolonFileReadsWithTheSeparatorOverrideOfTheExampleConfig(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.csv"), "text;label\n\"good; really\";pos\nbad;neg\n");
        ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", Path.of("..", "docs", "examples",
            "csv-classification.xml").toString(), "--@csv.dataPath", file.toString(), "--@csv.separator", ";"});
        TextCsvDataSource<Label> source = (TextCsvDataSource<Label>) cm.lookup("csv");
        assertEquals(List.of(file + " line 2 | good; really | pos", file + " line 3 | bad | neg"), describe(source));
    }
}
