package org.tribuopeft.spark.training;

import org.junit.jupiter.api.Test;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.plugin.AdapterTrainer;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The trainer shipped to the executors is the driver's, settings that change the arithmetic included. */
class TrainerTransportTest {

    @Test
    void theShippedTrainerKeepsTheComputePrecision() {
        for (ComputePrecision p : ComputePrecision.values()) {
            AdapterTrainer<Label> driver = AdapterTrainer.<Label>builder(new LoraConfig(4, 8, 0.0,
                    List.of("query", "value"))).backbone(TinyBert.folder(21)).computePrecision(p).progressSeconds(0)
                    .build();
            AdapterTrainer<Label> executor = TrainerTransport.fromJson(TrainerTransport.toJson(driver));
            assertEquals(p, executor.computePrecision());
            assertEquals(driver.getProvenance(), executor.getProvenance());
        }
    }
}
