package org.tribuopeft.adapters.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.TargetModule;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;
import org.tribuopeft.adapters.relora.ReLoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.vera.VeraConfig;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Adapters on a quantized frozen base (QLoRA) compute exactly what they compute on a float32 base holding the
 * dequantized weights, gradients reach them through the dequantized weights, merging re-quantizes and unmerging
 * restores the codes, and methods that rewrite the base are refused by name.
 */
class QuantizedBaseTest extends EngineTestBase {
    private static final List<String> TEXTS = List.of("a quick brown fox", "jumps over, the lazy dog!", "z");
    private static final String Q0 = "encoder.layer.0.attention.self.query";

    private final Backbone wide = TinyBert.wideBackbone(31);

    private TokenBatch batch() throws IOException {
        try (TextTokenizer tok = wide.tokenizer(24)) {
            return tok.encode(TEXTS);
        }
    }

    /** A float32 encoder holding exactly the weights a quantized encoder dequantizes to. */
    private BertEncoder dequantizedTwin(BertEncoder quantized) {
        return BertEncoder.create(quantized.toWeights(), manager);
    }

    /** Gives every B factor values, so the adapters change the output. */
    private static void activate(AdaptedEncoder a, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        a.trainableParameters().forEach((name, p) -> {
            if (name.contains("lora_B")) {
                NDArray b = p.getArray();
                float[] v = new float[(int) b.getShape().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) rng.nextDouble(-0.2, 0.2);
                }
                HostTensor.copyInto(new HostTensor(b.getShape().getShape(), v), b);
            }
        });
    }

    private float[] encode(BertEncoder e) throws IOException {
        return e.encode(manager, batch()).toFloatArray();
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void loraAndDoraOnAQuantizedBaseComputeLikeOnItsDequantizedWeights() throws IOException {
        for (AdapterMethod method : List.of(new LoraConfig(4, 8, 0.0, List.of("query", "value", "output.dense")),
                new DoraConfig(4, 8, 0.0, List.of("query", "value")))) {
            BertEncoder quantized = wide.createEncoder(manager, BaseQuantization.qlora());
            BertEncoder twin = dequantizedTwin(quantized);
            AdaptedEncoder q = method.apply(quantized, new SplittableRandom(5));
            AdaptedEncoder f = method.apply(twin, new SplittableRandom(5));
            activate(q, 9);
            activate(f, 9);
            float[] fromQuantized = encode(q.encoder());
            float[] fromFloat = encode(f.encoder());
            assertEquals(0.0, maxDiff(fromQuantized, fromFloat), 1e-6, method.toString());
            // and the quantization did change the model: the dequantized base is not the pretrained one
            float[] pretrained = encode(method.apply(wide.createEncoder(manager), new SplittableRandom(5)).encoder());
            assertTrue(maxDiff(fromFloat, pretrained) > 1e-3, method + " on the float32 base gave the same output");
        }
    }

    @Test
    void gradientsReachTheAdapterThroughTheDequantizedWeights() throws IOException {
        BertEncoder quantized = wide.createEncoder(manager, BaseQuantization.qlora());
        AdapterMethod lora = new LoraConfig(4, 8, 0.0, List.of("query", "value"));
        AdaptedEncoder q = lora.apply(quantized, new SplittableRandom(5));
        AdaptedEncoder f = lora.apply(dequantizedTwin(quantized), new SplittableRandom(5));
        activate(q, 3);
        activate(f, 3);
        Map<String, float[]> gq = gradients(q);
        Map<String, float[]> gf = gradients(f);
        assertEquals(gf.keySet(), gq.keySet());
        double largest = 0;
        for (String name : gq.keySet()) {
            assertEquals(0.0, maxDiff(gq.get(name), gf.get(name)), 1e-5, name);
            for (float v : gq.get(name)) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        assertTrue(largest > 1e-3, "the adapter got no gradient: " + largest);
        // the quantized base itself has nothing to train
        assertFalse(quantized.baseParameters().containsKey(Q0 + ".weight"));
        assertTrue(quantized.quantizedLinears().containsKey(Q0 + ".weight"));
    }

    private Map<String, float[]> gradients(AdaptedEncoder a) throws IOException {
        Map<String, float[]> out = new java.util.TreeMap<>();
        NDList in = batch().toNDList(manager);
        for (Parameter p : a.trainableParameters().values()) {
            p.getArray().setRequiresGradient(true);
        }
        try (GradientCollector collector = TorchRuntime.engine().newGradientCollector()) {
            NDArray y = a.encoder().encode(new ParameterStore(manager, false), in.get(0), in.get(1), in.get(2), false);
            collector.backward(y.square().sum());
        }
        a.trainableParameters().forEach((name, p) -> out.put(name, p.getArray().getGradient().toFloatArray()));
        return out;
    }

    @Test
    void mergingRequantizesAndUnmergingRestoresTheCodesExactly() throws IOException {
        BertEncoder quantized = wide.createEncoder(manager, BaseQuantization.qlora());
        AdaptedEncoder q = new LoraConfig(4, 8, 0.0, List.of("query", "value")).apply(quantized,
                new SplittableRandom(5));
        activate(q, 4);
        DenseLinear base = q.layers().get(Q0).base();
        float[] before = base.hostWeight().data();
        float[] unmerged = encode(q.encoder());
        float[] exactMerge = base.hostWeight().plus(q.layers().get(Q0).deltaWeight()).data();
        q.merge();
        float[] merged = base.hostWeight().data();
        assertNotEquals(0.0, maxDiff(before, merged));
        // the merged weight is W + ΔW quantized again: within half a code step of the exact sum
        assertTrue(maxDiff(merged, exactMerge) < 0.1, "merge error " + maxDiff(merged, exactMerge));
        double outputChange = maxDiff(unmerged, encode(q.encoder()));
        assertTrue(outputChange > 0 && outputChange < 0.5, "merged output differs by " + outputChange);
        q.unmerge();
        assertArrayEquals(before, base.hostWeight().data());
        assertEquals(0.0, maxDiff(unmerged, encode(q.encoder())));
    }

    @Test
    void methodsThatRewriteTheBaseAreRefusedByNameOnAQuantizedBase() throws IOException {
        Map<AdapterMethod, String> refused = Map.of(new FullFineTuning(), "full fine-tuning trains every Linear",
                new ReLoraConfig(4, 8, 0.0, List.of("query"), 10, 0.99, 1), "relora merges its update",
                new LoraConfig(4, 8, 0.0, List.of("query")).withInit(LoraInit.PISSA), "init=PISSA");
        for (Map.Entry<AdapterMethod, String> e : refused.entrySet()) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> TextModel.create(wide,
                    BaseQuantization.qlora(), e.getKey(), TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(1)));
            assertTrue(ex.getMessage().contains(e.getValue()) && ex.getMessage().contains("nf4(blockSize=64, "
                    + "doubleQuant=true, computeType=float32)"), ex.getMessage());
        }
        for (AdapterMethod ok : List.of(new VeraConfig(4, 0.1, 0.0, List.of("query")),
                new PromptTuningConfig(4, ""), new LoraConfig(4, 8, 0.0, List.of("query")))) {
            try (TextModel m = TextModel.create(wide, BaseQuantization.qlora(), ok, TaskKind.SINGLE_LABEL, 2, 24,
                    new SplittableRandom(1))) {
                assertTrue(m.adapted().encoder().isQuantized(), ok.toString());
            }
        }
    }

    @Test
    void aQuantizedModelCountsTheSameParametersAsAFloatOne() throws IOException {
        AdapterMethod lora = new LoraConfig(4, 8, 0.0, List.of("query"));
        try (TextModel q = TextModel.create(wide, BaseQuantization.qlora(), lora, TaskKind.SINGLE_LABEL, 2, 24,
                new SplittableRandom(1));
             TextModel f = TextModel.create(wide, lora, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(1))) {
            assertEquals(f.totalParameterCount(), q.totalParameterCount());
            assertEquals(f.trainableParameterCount(), q.trainableParameterCount());
            // 2 layers × (4·64·64 + 2·64·128) Linear weights are stored as codes
            assertEquals(2 * (4 * 64 * 64 + 2 * 64 * 128), q.adapted().encoder().quantizedLinears().values().stream()
                    .mapToLong(d -> (long) d.inFeatures() * d.outFeatures()).sum());
        }
    }

    @Test
    void aBlockSizeThatDoesNotDivideTheWidthsIsRefusedWithTheSizesThatDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> wide.createEncoder(manager, new BaseQuantization("nf4", 128, true)));
        assertEquals("quantization blockSize 128 does not divide the input width 64 of the Linear layers of 'model'; "
                + "use one of [32, 64]", e.getMessage());
    }

    @Test
    void sharedBasesShareTheQuantizedStorageAndToWeightsDequantizes() {
        BaseQuantization q = new BaseQuantization("fp4", 32, false);
        BertEncoder quantized = wide.createEncoder(manager, q);
        BertEncoder shared = quantized.shareBase();
        DenseLinear a = quantized.layers().get(1).linear(TargetModule.OUTPUT).base();
        DenseLinear b = shared.layers().get(1).linear(TargetModule.OUTPUT).base();
        assertSame(a.quantized().orElseThrow(), b.quantized().orElseThrow());
        assertEquals(q, shared.quantization().orElseThrow());
        BertWeights w = quantized.toWeights();
        HostTensor pretrained = wide.weights().get("encoder.layer.1.output.dense.weight");
        HostTensor expected = q.quantizer().quantizeOnHost(pretrained).dequantize();
        assertTrue(w.get("encoder.layer.1.output.dense.weight").bitEquals(expected));
        // everything else is the float32 original
        assertTrue(w.get("encoder.layer.1.output.dense.bias").bitEquals(wide.weights().get(
                "encoder.layer.1.output.dense.bias")));
        assertTrue(w.get("embeddings.word_embeddings.weight").bitEquals(wide.weights().get(
                "embeddings.word_embeddings.weight")));
    }
}
