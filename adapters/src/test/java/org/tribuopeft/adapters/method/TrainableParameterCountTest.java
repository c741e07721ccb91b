package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Trainable parameter counts on the real MiniLM equal PEFT's formulas for every method. */
class TrainableParameterCountTest {

    private static long count(AdapterMethod method) throws Exception {
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            BertEncoder encoder = backbone.createEncoder(manager);
            return method.apply(encoder, new SplittableRandom(1)).trainableParameterCount();
        }
    }

    @Test
    void loraRank8OnQueryAndValueHas73728Parameters() throws Exception {
        // 6 layers × 2 modules × (384·8 + 8·384)
        assertEquals(6L * 2 * (384 * 8 + 8 * 384), count(new LoraConfig(8, 16, 0.1, List.of("query", "value"))));
        assertEquals(73_728L, count(new LoraConfig(8, 16, 0.1, List.of("query", "value"))));
    }

    @Test
    void loraOnAllLinearCountsTheFeedForwardShapes() throws Exception {
        // per layer: 4 × r(384+384) + r(384+1536) + r(1536+384)
        long perLayer = 4L * 4 * (384 + 384) + 2L * 4 * (384 + 1536);
        assertEquals(6 * perLayer, count(new LoraConfig(4, 8, 0, List.of("all-linear"))));
    }

    @Test
    void loraOnlyBiasAddsTheAdaptedBiases() throws Exception {
        LoraConfig c = new LoraConfig(8, 16, 0, List.of("query", "value")).withBias(BiasMode.LORA_ONLY);
        assertEquals(73_728L + 12 * 384, count(c));
    }

    @Test
    void doraAddsOneMagnitudePerOutputRow() throws Exception {
        assertEquals(73_728L + 12 * 384, count(new DoraConfig(8, 16, 0, List.of("query", "value"))));
    }

    @Test
    void adaLoraCountsPEAndQAtTheInitialRank() throws Exception {
        // per module: A 12×384 + E 12×1 + B 384×12
        assertEquals(12L * (12 * 384 + 12 + 384 * 12), count(new AdaLoraConfig(12, 8, 8, List.of("query", "value"))));
    }

    @Test
    void fullFineTuningTrainsEveryBackboneWeight() throws Exception {
        long h = 384;
        long i = 1536;
        long embeddings = 30522 * h + 512 * h + 2 * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
        assertEquals(embeddings + 6 * layer, count(new FullFineTuning()));
        assertEquals(embeddings + 6 * layer - embeddings + 2 * h, count(new FullFineTuning(false)));
    }

    @Test
    void promptTuningTrainsOneHiddenVectorPerVirtualToken() throws Exception {
        // 20 × 384
        assertEquals(7_680L, count(new org.tribuopeft.adapters.prompt.PromptTuningConfig(20, "")));
    }

    @Test
    void prefixTuningTrainsKeysAndValuesPerLayerOrTheProjection() throws Exception {
        // 20 × 6 layers × 2 × 384
        assertEquals(92_160L, count(new org.tribuopeft.adapters.prefix.PrefixTuningConfig(20, false, 0)));
        // 20 × 384 + (256 × 384 + 256) + (4608 × 256 + 4608): PEFT's PrefixEncoder with prefix_projection
        assertEquals(1_290_496L, count(new org.tribuopeft.adapters.prefix.PrefixTuningConfig(20, true, 256)));
    }
}
