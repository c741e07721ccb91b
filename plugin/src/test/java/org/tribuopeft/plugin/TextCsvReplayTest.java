package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.provenance.replay.ModelReplayer;
import org.tribuopeft.provenance.replay.ReplayRefusedException;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model trained from TextCsvDataSource (the CSV example configuration) replays, and refuses a changed file. */
class TextCsvReplayTest {

    @Test
    void csvExampleModelReplaysBitIdenticallyAndRefusesAChangedFile(@TempDir Path tmp) throws Exception {
        Path csv = CsvTexts.write(tmp.resolve("texts.csv"), 40, 3);
        TextPipeline.Result<Label> r = ExampleConfigsTest.run(ExampleConfigsTest.EXAMPLES.resolve("csv-classification.xml"),
                "--@csv.dataPath", csv.toString());
        AdapterModel<Label> original = (AdapterModel<Label>) r.model();
        ModelReplayer.Result<Label> replay = Replays.replay(original);
        assertTrue(replay.report().bitIdentical(), replay.report().render());
        ((AdapterModel<Label>) replay.replayed()).close();

        Files.writeString(csv, Files.readString(csv).replaceFirst("pos", "neg"));
        ReplayRefusedException e = assertThrows(ReplayRefusedException.class, () -> Replays.replay(original));
        assertTrue(e.getMessage().contains(csv.toString()), e.getMessage());
        original.close();
    }
}
