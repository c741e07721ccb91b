package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pipelines that read CSV with Tribuo's own CSVDataSource and RowProcessor (as configurations written for
 * earlier versions do) get the same checks before training: the header once, and blank labels.
 */
class TribuoCsvSourceChecksTest {

    @SuppressWarnings("unchecked")
    static TextPipeline<Label> pipeline(Path csv, String... more) throws Exception {
        Path config = Paths.get(TribuoCsvSourceChecksTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml")
                .toURI());
        List<String> args = new ArrayList<>(List.of("-c", config.toString(), "--@csv.dataPath", csv.toString(),
                "--@trainer.backbone", org.tribuopeft.adapters.testing.TinyBert.folder(21).toString()));
        args.addAll(List.of(more));
        ConfigurationManager cm = new ConfigurationManager(args.toArray(new String[0]));
        return (TextPipeline<Label>) cm.lookup("pipeline");
    }

    @Test
    void missingTextColumnIsNamedOnceWithTheColumnsThereAre(@TempDir Path tmp) throws Exception {
        Path csv = Files.writeString(tmp.resolve("texts.csv"), "review,label\ngood,pos\nbad,neg\nfine,pos\nawful,neg\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipeline(csv).run());
        assertEquals("training data: data file " + csv + " has no column 'text', which its row processor reads; its "
                + "columns are [review, label]; rename the column or change the row processor's fieldName",
                e.getMessage());
    }

    @Test
    void blankLabelReadWithAnEmptyDefaultIsNotAClass(@TempDir Path tmp) throws Exception {
        StringBuilder sb = new StringBuilder("text,label\n");
        for (int i = 0; i < 12; i++) {
            sb.append("text ").append(i).append(',').append(i == 5 ? "" : i % 2 == 0 ? "pos" : "neg").append('\n');
        }
        Path csv = Files.writeString(tmp.resolve("texts.csv"), sb.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipeline(csv).run());
        assertTrue(e.getMessage().matches("(training|test) data: example \\d+ has a blank label; fill it in or remove "
                + "the row \\(a blank cell read with defaultValue \"\" becomes a class of its own\\)"), e.getMessage());
    }

    @Test
    void labelThatTheSplitPutOnlyInTheTestDataSaysToChangeTheSplit(@TempDir Path tmp) throws Exception {
        StringBuilder sb = new StringBuilder("text,label\n");
        for (int i = 0; i < 12; i++) {
            sb.append("text ").append(i).append(',').append(i == 11 ? "rare" : i % 2 == 0 ? "pos" : "neg").append('\n');
        }
        Path csv = Files.writeString(tmp.resolve("texts.csv"), sb.toString());
        for (int seed = 1; seed < 50; seed++) {
            TextPipeline<Label> pipeline = pipeline(csv, "--@pipeline.splitSeed", Integer.toString(seed));
            IllegalArgumentException e;
            try {
                pipeline.datasets();
                continue;
            } catch (IllegalArgumentException ex) {
                e = ex;
            }
            assertTrue(e.getMessage().matches("test data: example \\d+ has label 'RARE', which no training example has "
                    + "\\(training labels: \\[NEG, POS]\\); a model cannot predict what it never saw: the random split put "
                    + "every example of it in the test data: add examples of it, or change the pipeline's splitSeed or "
                    + "trainFraction"), e.getMessage());
            return;
        }
        throw new AssertionError("no seed in 1..49 put the one 'rare' row in the test split");
    }
}
