package org.tribuopeft.plugin.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.classification.LabelFactory;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.multilabel.MultiLabelFactory;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuopeft.plugin.TextExamples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Reading texts from JSON lines or a JSON array, with the line of each object, and the errors a user meets. */
class TextJsonDataSourceTest {

    static <T extends Output<T>> List<String> describe(Iterable<Example<T>> source) {
        List<String> out = new ArrayList<>();
        for (Example<T> e : source) {
            out.add(e.getMetadataValue(TextExamples.SOURCE_KEY).orElseThrow() + " | " + e.getMetadataValue("text")
                    .orElseThrow() + " | " + e.getOutput().getSerializableForm(false));
        }
        return out;
    }

    @Test
    void jsonLinesAndAnArrayAreReadWithTheLineOfEachObject(@TempDir Path tmp) throws Exception {
        Path lines = Files.writeString(tmp.resolve("texts.jsonl"),
                "{\"text\": \"good\", \"label\": \"pos\"}\n\n{\"label\": \"neg\", \"text\": \"bad\\nday\"}\n");
        assertEquals(List.of(lines + " line 1 | good | pos", lines + " line 3 | bad\nday | neg"),
                describe(new TextJsonDataSource<>(lines, new LabelFactory(), "text", "label")));
        Path array = Files.writeString(tmp.resolve("texts.json"),
                "[\n  {\"text\": \"good\",\n   \"label\": \"pos\"},\n  {\"text\": \"bad\", \"label\": \"neg\"}\n]\n");
        assertEquals(List.of(array + " line 2 | good | pos", array + " line 4 | bad | neg"),
                describe(new TextJsonDataSource<>(array, new LabelFactory(), "text", "label")));
    }

    @Test
    void numbersAreRegressionTargetsAndArraysAreLabelSets(@TempDir Path tmp) throws Exception {
        Path scores = Files.writeString(tmp.resolve("scores.jsonl"), "{\"text\": \"good\", \"score\": 4.5}\n");
        Regressor r = new TextJsonDataSource<>(scores, new RegressionFactory(), "text", "score").iterator().next()
                .getOutput();
        assertArrayEquals(new double[] {4.5}, r.getValues());
        Path tags = Files.writeString(tmp.resolve("tags.jsonl"), "{\"text\": \"good\", \"tags\": [\"a\", \"b\"]}\n");
        MultiLabel m = new TextJsonDataSource<>(tags, new MultiLabelFactory(), "text", "tags").iterator().next()
                .getOutput();
        assertEquals(java.util.Set.of("a", "b"), m.getNameSet());
    }

    @Test
    void nullOrAbsentLabelStopsNamingTheLine(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.jsonl"),
                "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"meh\", \"label\": null}\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextJsonDataSource<>(file, new LabelFactory(), "text", "label"));
        assertEquals(file + " line 2: the label value is blank; fill it in, delete the row, or set skipBlankOutputs to "
                + "true (--@source.skipBlankOutputs true) to skip such rows", e.getMessage());
    }

    @Test
    void wrongKeyNameListsTheKeysOfTheFirstObject(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("texts.jsonl"), "{\"review\": \"good\", \"label\": \"pos\"}\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextJsonDataSource<>(file, new LabelFactory(), "text", "label"));
        assertEquals(file + " line 1: the first object has no key 'text' (textColumn of data source ''); its keys are "
                + "[review, label]; set textColumn to one of them", e.getMessage());
    }

    @Test
    void brokenJsonAndNonStringTextNameTheirLine(@TempDir Path tmp) throws Exception {
        Path broken = Files.writeString(tmp.resolve("broken.jsonl"), "{\"text\": \"good\", \"label\": \"pos\"}\n"
                + "{\"text\": \"bad\" \"label\": \"neg\"}\n");
        DataFileException e = assertThrows(DataFileException.class,
                () -> new TextJsonDataSource<>(broken, new LabelFactory(), "text", "label"));
        assertEquals(broken + " is not valid JSON at line 2, column 16: Unexpected character ('\"' (code 34)): was "
                + "expecting comma to separate Object entries", e.getMessage());
        Path number = Files.writeString(tmp.resolve("number.jsonl"), "{\"text\": 42, \"label\": \"pos\"}\n");
        e = assertThrows(DataFileException.class,
                () -> new TextJsonDataSource<>(number, new LabelFactory(), "text", "label"));
        assertEquals(number + " line 1: the text value is a number, not a string", e.getMessage());
    }
}
