package org.tribuopeft.adapters.adalora;

import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The schedule of the shipped AdaLoRA example (tinit 20, tfinal 40) fits a short run by one scaling factor instead
 * of failing inside training; long runs and a fixed totalStep keep the configured phases.
 */
class AdaLoraScheduleFitTest {

    private static AdaLoraConfig example() {
        return new AdaLoraConfig(12, 8, 16, List.of("query", "value")).withSchedule(20, 40, 10);
    }

    @Test
    void tooShortARunScalesTinitAndTfinalSoTheDecayTakesHalfTheRun() {
        // 40 examples, batch 16, 2 epochs: 6 steps; factor 3 / 60 = 0.05
        BudgetSchedule s = example().schedule(12, 6);
        assertEquals(new BudgetSchedule(144, 96, 1, 2, 10, 6), s);
        // 60 steps: tinit + tfinal = 60 leave no decay; factor 30 / 60 = 0.5
        assertEquals(new BudgetSchedule(144, 96, 10, 20, 10, 60), example().schedule(12, 60));
    }

    @Test
    void aRunLongEnoughKeepsTheConfiguredPhases() {
        assertEquals(new BudgetSchedule(144, 96, 20, 40, 10, 61), example().schedule(12, 61));
        assertEquals(new BudgetSchedule(144, 96, 20, 40, 10, 250), example().schedule(12, 250));
    }

    @Test
    void aFixedTotalStepIsCheckedAtConfigurationTimeAndNeverScaled() {
        assertEquals(new BudgetSchedule(24, 16, 20, 40, 10, 100), example().withTotalStep(100).schedule(2, 6));
        PropertyException e = assertThrows(PropertyException.class, () -> example().withTotalStep(60));
        assertEquals("totalStep", e.getProperty());
    }
}
