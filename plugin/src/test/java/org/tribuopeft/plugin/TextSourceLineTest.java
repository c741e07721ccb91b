package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The trainer names a bad example by the file and line its data source recorded, not by its position
 * after the train/test shuffle; without a recorded source it falls back to the position.
 */
class TextSourceLineTest {

    @Test
    void blankTextIsReportedByItsSourceLine() {
        LabelFactory f = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(new SimpleDataSourceProvenance("csv", TinyDatasets.TIME, f), f);
        data.addAll(TinyDatasets.examples(3, 1, TinyDatasets::label));
        ArrayExample<Label> blank = new ArrayExample<>(new Label("pos"), Map.of("text", "  ",
                "tribuo-peft.source", "reviews.csv line 17"));
        blank.add(TextPresenceProcessor.FEATURE, 1.0);
        data.add(blank);
        AdapterTrainer<Label> trainer = new AdapterTrainer<>(TinyBert.folder(21).toString(), new LoraConfig());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer.train(data));
        assertEquals("reviews.csv line 17 has an empty text in metadata 'text'", e.getMessage());
    }
}
