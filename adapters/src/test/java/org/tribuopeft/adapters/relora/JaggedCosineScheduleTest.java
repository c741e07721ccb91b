package org.tribuopeft.adapters.relora;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.JaggedCosineSchedule;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.StepProgress;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The jagged schedule against values computed by hand, and the loop following it for ReLoRA. */
class JaggedCosineScheduleTest {
    // peak 1, warm-up 10 of 100 steps, a reset every 30 steps, re-warm-up 5
    private final JaggedCosineSchedule s = new JaggedCosineSchedule(1.0, 10, 100, 30, 5);

    @Test
    void valuesAtChosenStepsEqualHandComputedOnes() {
        assertEquals(0.0, s.at(0), 1e-12);
        assertEquals(0.5, s.at(5), 1e-12);                 // warm-up 5/10
        assertEquals(1.0, s.at(10), 1e-12);                // cosine at progress 0
        assertEquals(0.9698463104, s.at(20), 1e-9);        // (1 + cos 20°)/2
        assertEquals(0.0, s.at(30), 1e-12);                // first step after the first reset
        assertEquals(0.3285575219, s.at(32), 1e-9);        // 2/5 of the curve at step 35: (1 + cos 50°)/2 = 0.8213938
        assertEquals(0.8213938048, s.at(35), 1e-9);        // back on the cosine curve
        assertEquals(0.0, s.at(60), 1e-12);
        assertEquals(0.0003045865, s.at(99), 1e-9);        // (1 + cos 178°)/2
    }

    @Test
    void restartWarmupMustBeShorterThanTheInterval() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JaggedCosineSchedule(1.0, 0, 10, 5, 5));
        assertEquals("need restartEvery > 0 and 0 <= restartWarmupSteps < restartEvery, got 5 and 5", e.getMessage());
    }

    @Test
    void theLoopUsesReLorasScheduleInsteadOfTheLinearOne() throws Exception {
        List<Double> rates = new ArrayList<>();
        ProgressListener record = new ProgressListener() {
            @Override
            public void onStep(StepProgress p) {
                rates.add(p.learningRate());
            }
        };
        // 32 examples, batch 4: 8 steps per epoch, 2 epochs = 16 steps; warm-up ceil(0.1·16) = 2
        try (TextModel m = TextModel.create(TinyBert.backbone(5),
                new ReLoraConfig(2, 4, 0.0, List.of("query"), 6, 0.99, 2), TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(1))) {
            new FineTuner(new TrainingConfig(2, 4, 1e-2, 0.0, 0.1, 1.0, 0, 16, 3), record)
                    .fit(m, SyntheticTexts.twoClass(32, 1), List.of());
        }
        JaggedCosineSchedule expected = new JaggedCosineSchedule(1e-2, 2, 16, 6, 2);
        assertEquals(16, rates.size());
        for (int i = 0; i < 16; i++) {
            assertEquals(expected.at(i), rates.get(i), 0.0, "step index " + i);
        }
        assertEquals(0.0, rates.get(6), 0.0);
        assertEquals(0.0, rates.get(12), 0.0);
    }
}
