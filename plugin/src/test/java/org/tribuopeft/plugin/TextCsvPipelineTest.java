package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.plugin.data.TextCsvDataSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A pipeline over CSV files names the file and line of a test row at fault, before training or evaluating. */
class TextCsvPipelineTest {

    @Test
    void unseenTestLabelNamesTheTestFileAndLine(@TempDir Path tmp) throws Exception {
        Path train = Files.writeString(tmp.resolve("train.csv"), "text,label\ngood,pos\nbad,neg\n");
        Path test = Files.writeString(tmp.resolve("test.csv"), "text,label\nfine,pos\n\"not\nsure\",maybe\n");
        TextPipelineChecksTest.RecordingTrainer trainer = new TextPipelineChecksTest.RecordingTrainer();
        TextPipeline<Label> pipeline = new TextPipeline<>(
                new TextCsvDataSource<>(train, new LabelFactory(), "text", "label"),
                new TextCsvDataSource<>(test, new LabelFactory(), "text", "label"), trainer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, pipeline::run);
        assertFalse(trainer.called);
        assertEquals("test data: " + test + " line 3 has label 'maybe', which no training example has (training "
                + "labels: [neg, pos]); a model cannot predict what it never saw: add examples of it to the training "
                + "data or remove the row from the test data", e.getMessage());
    }

    @Test
    void evaluatingOnALabelTheModelLacksNamesTheTestFileAndLine(@TempDir Path tmp) throws Exception {
        Path train = CsvTexts.write(tmp.resolve("train.csv"), 24, 3);
        Path test = Files.writeString(tmp.resolve("test.csv"), "text,label\ngood fine,pos\nso so,maybe\n");
        TextCsvDataSource<Label> trainSource = new TextCsvDataSource<>(train, new LabelFactory(), "text", "label");
        AdapterTrainer<Label> trainer = new AdapterTrainer<Label>(TinyBert.folder(21).toString(), new LoraConfig(),
                24, 8, 1, 1e-3, 1L).withProgressSeconds(0);
        AdapterModel<Label> model = trainer.train(new MutableDataset<>(trainSource));
        TextPipeline<Label> pipeline = new TextPipeline<>(trainSource,
                new TextCsvDataSource<>(test, new LabelFactory(), "text", "label"), trainer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pipeline.testDataFor(model));
        assertEquals("test data: " + test + " line 3 has label 'maybe', which the model cannot predict (model labels: "
                + "[neg, pos]); evaluate it on test data with the model's outputs, or train a model that has them",
                e.getMessage());
        model.close();
    }
}
