package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.SkeletalConfiguredObjectProvenance;
import org.junit.jupiter.api.Test;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.OutputFactory;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;
import org.tribuo.provenance.TrainerProvenance;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A pipeline checks its test data against its training data before the trainer runs, so that a fault
 * found after training cannot throw the trained model away. A recording trainer shows it never ran.
 */
class TextPipelineChecksTest {

    /** A trainer that only records that it was asked to train. */
    static final class RecordingTrainer implements Trainer<Label> {
        boolean called;

        @Override
        public Model<Label> train(Dataset<Label> examples, Map<String, Provenance> runProvenance) {
            called = true;
            throw new IllegalStateException("the trainer ran");
        }

        @Override
        public Model<Label> train(Dataset<Label> examples, Map<String, Provenance> runProvenance, int invocationCount) {
            return train(examples, runProvenance);
        }

        @Override
        public int getInvocationCount() {
            return 0;
        }

        @Override
        public void setInvocationCount(int invocationCount) { }

        @Override
        public TrainerProvenance getProvenance() {
            throw new UnsupportedOperationException();
        }
    }

    /** Examples held in memory. */
    static final class ListSource implements ConfigurableDataSource<Label> {
        final List<Example<Label>> examples;

        ListSource(List<Example<Label>> examples) {
            this.examples = examples;
        }

        @Override
        public OutputFactory<Label> getOutputFactory() {
            return new LabelFactory();
        }

        @Override
        public Iterator<Example<Label>> iterator() {
            return examples.iterator();
        }

        @Override
        public ConfiguredDataSourceProvenance getProvenance() {
            return new ListProvenance(this);
        }
    }

    static final class ListProvenance extends SkeletalConfiguredObjectProvenance
            implements ConfiguredDataSourceProvenance {
        ListProvenance(ListSource host) {
            super(host, "DataSource");
        }
    }

    static Example<Label> example(String label, Map<String, Object> metadata) {
        ArrayExample<Label> e = new ArrayExample<>(new Label(label), metadata);
        e.add(TextPresenceProcessor.FEATURE, 1.0);
        return e;
    }

    static ListSource texts(String... labels) {
        List<Example<Label>> out = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            out.add(example(labels[i], Map.of("text", "text number " + i)));
        }
        return new ListSource(out);
    }

    static String failure(ListSource train, ListSource test, RecordingTrainer trainer) {
        TextPipeline<Label> pipeline = new TextPipeline<>(train, test, trainer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, pipeline::run);
        assertFalse(trainer.called, "the trainer must not run when the data is wrong");
        return e.getMessage();
    }

    @Test
    void unseenTestLabelStopsBeforeTraining() {
        RecordingTrainer trainer = new RecordingTrainer();
        assertEquals("test data: example 2 has label 'maybe', which no training example has (training labels: [neg, "
                + "pos]); a model cannot predict what it never saw: add examples of it to the training data or remove "
                + "the row from the test data", failure(texts("pos", "neg", "pos"), texts("pos", "neg", "maybe"), trainer));
    }

    @Test
    void blankTestTextStopsBeforeTraining() {
        ListSource test = new ListSource(List.of(example("pos", Map.of("text", "fine")),
                example("neg", Map.of("text", "  \t"))));
        assertEquals("test data: example 1 has an empty text in metadata 'text'",
                failure(texts("pos", "neg"), test, new RecordingTrainer()));
    }

    @Test
    void missingTextFieldInTestDataStopsBeforeTraining() {
        ListSource test = new ListSource(List.of(example("pos", Map.of("review", "fine"))));
        assertEquals("test data: example 0 has no metadata 'text' (its metadata keys: [review]); put the text there, "
                + "e.g. with TextRowProcessors.forText", failure(texts("pos", "neg"), test, new RecordingTrainer()));
    }

    @Test
    void blankTrainingLabelStopsBeforeTraining() {
        assertEquals("training data: example 1 has a blank label; fill it in or remove the row (a blank cell read "
                + "with defaultValue \"\" becomes a class of its own)",
                failure(texts("pos", "", "neg"), texts("pos"), new RecordingTrainer()));
    }
}
