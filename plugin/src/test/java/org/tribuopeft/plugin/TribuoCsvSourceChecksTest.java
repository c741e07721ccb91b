package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pipelines that read CSV with Tribuo's own CSVDataSource and RowProcessor (as configurations written for
 * earlier versions do) get the same checks before training: the header once, and blank labels.
 */
class TribuoCsvSourceChecksTest {

    @SuppressWarnings("unchecked")
    static TextPipeline<Label> pipeline(Path csv) throws Exception {
        Path config = Paths.get(TribuoCsvSourceChecksTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml")
                .toURI());
        ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", config.toString(), "--@csv.dataPath",
            csv.toString(), "--@trainer.backbone", "unused-because-nothing-trains"});
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
}
