package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** VeRA's trainable count on the real MiniLM is PEFT's Σ(out + r), against LoRA r = 8 on the same targets. */
class VeraParameterCountTest {

    private static long count(AdapterMethod method) throws Exception {
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            return method.apply(backbone.createEncoder(manager), new SplittableRandom(1)).trainableParameterCount();
        }
    }

    @Test
    void rank256OnQueryAndValueTrains7680AgainstLoraRank8s73728() throws Exception {
        // 6 layers × 2 modules × (384 + 256)
        assertEquals(7_680L, count(new VeraConfig(256, 0.1, 0.0, List.of("query", "value"))));
        assertEquals(73_728L, count(new LoraConfig(8, 16, 0.0, List.of("query", "value"))));
    }

    @Test
    void rank256OnAllLinearTrains29952AgainstLoraRank8s331776() throws Exception {
        // per layer: 4 × (384 + 256) + (1536 + 256) + (384 + 256)
        assertEquals(6L * (5 * (384 + 256) + (1536 + 256)), count(new VeraConfig(256, 0.1, 0.0, List.of("all-linear"))));
        assertEquals(29_952L, count(new VeraConfig(256, 0.1, 0.0, List.of("all-linear"))));
        assertEquals(331_776L, count(new LoraConfig(8, 16, 0.0, List.of("all-linear"))));
    }
}
