package org.tribuopeft.adapters.adalora;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdaLoRA's schedule, its allocation driven by the training loop, and the edge cases PEFT trips on. */
class AdaLoraAllocationTest {

    @Test
    void budgetFollowsTheCubicSchedule() {
        BudgetSchedule s = new BudgetSchedule(12 * 10, 8 * 10, 5, 10, 3, 100);
        // warm-up: full budget, no mask
        assertEquals(new BudgetSchedule.Decision(120, false), s.at(1));
        assertEquals(new BudgetSchedule.Decision(120, false), s.at(5));
        // decay: floor((init - target)·(1 - (t - tinit)/(T - tfinal - tinit))³ + target), mask when t % deltaT == 0
        for (int t = 6; t <= 90; t++) {
            double mul = 1 - (t - 5) / 85.0;
            int expected = (int) Math.floor(40 * mul * mul * mul + 80);
            assertEquals(expected, s.at(t).budget(), "budget at step " + t);
            assertEquals(t % 3 == 0, s.at(t).mask(), "mask flag at step " + t);
        }
        assertEquals(94, s.at(30).budget()); // 40·(60/85)³ + 80 = 94.07, worked by hand
        // final phase: target budget, masked every step
        assertEquals(new BudgetSchedule.Decision(80, true), s.at(91));
        assertEquals(new BudgetSchedule.Decision(80, true), s.at(100));
        assertEquals(90, s.finalStep());
    }

    @Test
    void aScheduleWithoutABudgetingPhaseIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BudgetSchedule(24, 16, 50, 50, 1, 100));
        assertTrue(e.getMessage().contains("tinit (50) + tfinal (50)"), e.getMessage());
    }

    @Test
    void trainingEndsWithExactlyTheTargetBudgetAndReportsRanks() throws Exception {
        AdaLoraConfig cfg = new AdaLoraConfig(6, 2, 8, List.of("query", "value", "dense")).withSchedule(2, 3, 2);
        try (TextModel m = TextModel.create(TinyBert.backbone(5), cfg, TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(1))) {
            assertEquals(6 * 10, m.adapted().ranks().values().stream().mapToInt(Integer::intValue).sum());
            new FineTuner(new TrainingConfig(3, 8, 5e-3, 0.0, 0.0, 1.0, 0, 32, 2), ProgressListener.NONE)
                    .fit(m, SyntheticTexts.twoClass(64, 3), List.of());
            Map<String, Integer> ranks = m.adapted().ranks();
            System.out.println("AdaLoRA final ranks per module: " + ranks);
            assertEquals(10, ranks.size());
            assertEquals(2 * 10, ranks.values().stream().mapToInt(Integer::intValue).sum());
            RankAllocator allocator = (RankAllocator) m.adapted().hook();
            assertTrue(allocator.isFixed());
            assertEquals(24, allocator.schedule().totalStep());
            // pruned triplets really are zero in Λ
            for (Map.Entry<String, boolean[]> e : allocator.rankPattern().entrySet()) {
                AdaLoraLinear l = (AdaLoraLinear) m.adapted().layers().get(e.getKey());
                float[] lambda = l.loraE().getArray().toFloatArray();
                for (int i = 0; i < lambda.length; i++) {
                    if (!e.getValue()[i]) {
                        assertEquals(0f, lambda[i], e.getKey() + " triplet " + i + " was pruned but Λ is not zero");
                    }
                }
            }
        }
    }

    @Test
    void budgetEqualToTheInitialBudgetMasksNothingInsteadOfCrashing() throws Exception {
        // initR == targetR: k = 0 at every mask, where PEFT's kthvalue fails
        AdaLoraConfig cfg = new AdaLoraConfig(3, 3, 8, List.of("query"));
        try (TextModel m = TextModel.create(TinyBert.backbone(5), cfg, TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(1))) {
            new FineTuner(new TrainingConfig(1, 8, 5e-3, 0.0, 0.0, 1.0, 0, 32, 2), ProgressListener.NONE)
                    .fit(m, SyntheticTexts.twoClass(32, 3), List.of());
            assertEquals(3 * 2, m.adapted().ranks().values().stream().mapToInt(Integer::intValue).sum());
        }
    }

    @Test
    void aLayerPrunedToRankZeroStillRunsAndMerges() throws Exception {
        // one triplet for four matrices of rank 3: at least three layers end at rank 0
        AdaLoraConfig cfg = new AdaLoraConfig(3, 1, 8, List.of("query", "value"));
        try (TextModel m = TextModel.create(TinyBert.backbone(5), cfg, TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(1))) {
            new FineTuner(new TrainingConfig(2, 8, 5e-3, 0.0, 0.0, 1.0, 0, 32, 2), ProgressListener.NONE)
                    .fit(m, SyntheticTexts.twoClass(32, 3), List.of());
            Map<String, Integer> ranks = m.adapted().ranks();
            assertEquals(4, ranks.values().stream().mapToInt(Integer::intValue).sum());
            assertTrue(ranks.containsValue(0), "expected a rank-0 layer: " + ranks);
            List<String> texts = List.of("good great", "bad awful");
            float[][] before = m.predict(texts, 2);
            m.adapted().merge();
            float[][] after = m.predict(texts, 2);
            m.adapted().unmerge();
            for (int i = 0; i < before.length; i++) {
                for (int j = 0; j < before[i].length; j++) {
                    assertEquals(before[i][j], after[i][j], 1e-5);
                }
            }
            assertFalse(Double.isNaN(before[0][0]));
        }
    }
}
