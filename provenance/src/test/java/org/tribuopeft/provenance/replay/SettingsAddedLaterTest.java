package org.tribuopeft.provenance.replay;

import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.property.SimpleProperty;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A model saved before {@code minSteps} existed trained exactly {@code epochs} passes; its replay must too, rather
 * than pick up the new default and train more steps than the original did. Likewise a model saved before
 * {@code computePrecision} existed trained in float32.
 */
class SettingsAddedLaterTest {

    @Test
    void aRecordedTrainerWithoutMinStepsReplaysWithMinStepsZero() {
        ConfigurationData old = new ConfigurationData("trainer", "org.tribuopeft.plugin.AdapterTrainer");
        old.add("epochs", new SimpleProperty("2"));
        ConfigurationData recent = new ConfigurationData("trainer", "org.tribuopeft.plugin.AdapterTrainer");
        recent.add("minSteps", new SimpleProperty("50"));
        ConfigurationData method = new ConfigurationData("method", "org.tribuopeft.adapters.lora.LoraConfig");
        ModelReplayer.withSettingsAddedLater(List.of(old, recent, method));
        assertEquals(new SimpleProperty("0"), old.get("minSteps").orElseThrow());
        assertEquals(new SimpleProperty("2"), old.get("epochs").orElseThrow());
        assertEquals(new SimpleProperty("50"), recent.get("minSteps").orElseThrow());
        assertFalse(method.contains("minSteps"));
    }

    @Test
    void aRecordedTrainerWithoutComputePrecisionReplaysInFloat32AndARecordedOneKeepsIts() {
        ConfigurationData old = new ConfigurationData("trainer", "org.tribuopeft.plugin.AdapterTrainer");
        ConfigurationData bf16 = new ConfigurationData("trainer", "org.tribuopeft.plugin.AdapterTrainer");
        bf16.add("computePrecision", new SimpleProperty("bfloat16"));
        ModelReplayer.withSettingsAddedLater(List.of(old, bf16));
        assertEquals(new SimpleProperty("float32"), old.get("computePrecision").orElseThrow());
        assertEquals(new SimpleProperty("bfloat16"), bf16.get("computePrecision").orElseThrow());
    }
}
