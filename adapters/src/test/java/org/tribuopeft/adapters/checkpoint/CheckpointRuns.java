package org.tribuopeft.adapters.checkpoint;

import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.StepProgress;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;
import org.tribuopeft.adapters.train.TrainingReport;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One small checkpointed run on TinyBert (48 examples, batch 4: 12 steps per epoch, 2 epochs, dropout
 * on), shared by the checkpoint tests and the child JVM that is killed mid-run.
 */
public final class CheckpointRuns {
    /** The training texts. */
    public static final List<LabelledText> TRAIN = SyntheticTexts.twoClass(48, 11);
    /** The validation texts. */
    public static final List<LabelledText> VALID = SyntheticTexts.twoClass(16, 12);
    /** Steps per epoch of {@link #config(long)}. */
    public static final int STEPS_PER_EPOCH = 12;

    private CheckpointRuns() {}

    /** Two epochs of batch 4 with warm-up, clipping and decay. */
    public static TrainingConfig config(long seed) {
        return new TrainingConfig(2, 4, 5e-3, 0.01, 0.1, 1.0, 0, 16, seed);
    }

    /** LoRA with adapter dropout on query and value. */
    public static AdapterMethod lora() {
        return new LoraConfig(4, 8, 0.1, List.of("query", "value"));
    }

    /** AdaLoRA whose allocator masks every 2 steps from step 2 and fixes the ranks at step 18 of 24. */
    public static AdapterMethod adaLora() {
        return new AdaLoraConfig(4, 2, 8, List.of("query", "value")).withSchedule(2, 6, 2);
    }

    /** A fresh model of a fixed initialisation. */
    public static TextModel model(AdapterMethod method) throws Exception {
        return TextModel.create(TinyBert.backbone(5), method, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3));
    }

    /** The run's trained tensors and report. */
    public record Outcome(Map<String, HostTensor> tensors, Map<String, boolean[]> masks, TrainingReport report) {}

    /** Trains a fresh model with the given loop and returns what it learned. */
    public static Outcome train(AdapterMethod method, FineTuner tuner) throws Exception {
        try (TextModel m = model(method)) {
            TrainingReport r = tuner.fit(m, TRAIN, VALID);
            return new Outcome(m.snapshot().values(), m.rankMasks(), r);
        }
    }

    /** A listener that stops the run by throwing right after step {@code step}. */
    public static ProgressListener interruptAfter(int step) {
        return new ProgressListener() {
            @Override
            public void onStep(StepProgress progress) {
                if (progress.step() == step) {
                    throw new Interrupted(step);
                }
            }
        };
    }

    /** Thrown by {@link #interruptAfter(int)}. */
    public static final class Interrupted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Interrupted(int step) {
            super("interrupted after step " + step);
        }
    }

    /** Every tensor bit-identical (max |diff| = 0) with the same key sets, and the same masks. */
    public static void assertSameOutcome(Outcome expected, Outcome actual) {
        assertEquals(expected.tensors().keySet(), actual.tensors().keySet());
        for (String k : expected.tensors().keySet()) {
            assertEquals(0.0, expected.tensors().get(k).maxAbsDiff(actual.tensors().get(k)), k);
            assertTrue(expected.tensors().get(k).bitEquals(actual.tensors().get(k)), k);
        }
        assertEquals(expected.masks().keySet(), actual.masks().keySet());
        expected.masks().forEach((k, v) -> assertTrue(java.util.Arrays.equals(v, actual.masks().get(k)), k));
        assertEquals(expected.report().stepsRun(), actual.report().stepsRun());
        for (int i = 0; i < expected.report().epochs().size(); i++) {
            assertEquals(expected.report().epochs().get(i).trainLoss(), actual.report().epochs().get(i).trainLoss());
            assertEquals(expected.report().epochs().get(i).validationMetric(),
                    actual.report().epochs().get(i).validationMetric());
        }
    }

    /** Checkpoint settings in {@code dir}. */
    public static CheckpointSettings every(Path dir, int steps, int kept) {
        return CheckpointSettings.in(dir, steps, kept);
    }
}
