package org.tribuopeft.adapters.mixed;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.vera.VeraConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch whose rows belong to LoRA, DoRA, VeRA, AdaLoRA and prompt-tuning adapters over one base predicts what
 * each adapter's own model (its own copy of the base) predicts.
 */
class MixedBatchPredictorTest {
    private static final List<String> TEXTS = List.of("a good film", "bad plot, dull acting!", "it was fine",
            "what a wonderful surprise", "no", "the ending made no sense at all to me", "great", "terrible sound");

    static List<AdapterMethod> methods() {
        List<String> all = List.of("query", "key", "value", "dense");
        AdaLoraConfig ada = new AdaLoraConfig(4, 2, 8, all);
        return List.of(new LoraConfig(4, 8, 0.0, List.of("query", "value")), new DoraConfig(4, 8, 0.0, all),
                new VeraConfig(8, 0.1, 0.0, all), ada, new PromptTuningConfig(3, ""));
    }

    /** Random non-zero values for every trained tensor (LoRA's B starts at zero, which would hide a wrong update). */
    static TextModel.Snapshot randomised(TextModel m, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        TextModel.Snapshot s = m.snapshot();
        Map<String, HostTensor> values = new LinkedHashMap<>();
        s.values().forEach((k, t) -> {
            float[] d = new float[t.data().length];
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) rng.nextDouble(-0.3, 0.3) + (k.contains("magnitude") ? 1f : 0f);
            }
            values.put(k, new HostTensor(t.shape(), d));
        });
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        s.rankMasks().forEach((k, mask) -> {
            boolean[] keep = mask.clone();
            keep[keep.length - 1] = false; // a pruned triplet, as AdaLoRA leaves them
            masks.put(k, keep);
        });
        return new TextModel.Snapshot(values, masks);
    }

    @Test
    void mixedBatchEqualsEachAdaptersOwnModel() throws Exception {
        assertMixedEqualsOwn(TinyBert.backbone(7), null);
    }

    /** On an NF4 base (QLoRA adapters), DoRA's update reads the dequantized weight, as its own model does. */
    @Test
    void mixedBatchOnAQuantizedBaseEqualsEachAdaptersOwnQuantizedModel() throws Exception {
        assertMixedEqualsOwn(TinyBert.wideBackbone(31), new BaseQuantization("nf4", 32, true));
    }

    private static void assertMixedEqualsOwn(Backbone backbone, BaseQuantization quantization) throws Exception {
        List<AdapterMethod> methods = methods();
        try (SharedBase base = SharedBase.of(backbone, quantization)) {
            MixedBatchPredictor predictor = new MixedBatchPredictor(base);
            List<TextModel> shared = new ArrayList<>();
            List<TextModel> own = new ArrayList<>();
            try {
                for (int i = 0; i < methods.size(); i++) {
                    TextModel m = base.adapterModel(methods.get(i), TaskKind.SINGLE_LABEL, 2 + i % 2, 24,
                            new SplittableRandom(i));
                    TextModel.Snapshot snap = randomised(m, 100 + i);
                    m.restore(snap);
                    shared.add(m);
                    TextModel alone = TextModel.create(backbone, quantization, methods.get(i), TaskKind.SINGLE_LABEL,
                            2 + i % 2, 24, new SplittableRandom(i));
                    alone.restore(snap);
                    own.add(alone);
                }
                // interleaved rows: every adapter appears several times, out of order
                List<MixedBatchPredictor.Row> rows = new ArrayList<>();
                List<Integer> whose = new ArrayList<>();
                for (int r = 0; r < 20; r++) {
                    int a = (r * 3) % methods.size();
                    rows.add(new MixedBatchPredictor.Row(shared.get(a), TEXTS.get(r % TEXTS.size())));
                    whose.add(a);
                }
                float[][] mixed = predictor.predict(rows, MixedBatchPredictor.Batching.MIXED);
                float[][] perAdapter = predictor.predict(rows, MixedBatchPredictor.Batching.PER_ADAPTER);
                double worst = 0;
                for (int r = 0; r < rows.size(); r++) {
                    float[] expected = own.get(whose.get(r)).predict(List.of(rows.get(r).text()), 1)[0];
                    assertEquals(expected.length, mixed[r].length, "row " + r + " width");
                    worst = Math.max(worst, FloatRows.maxAbsDiff(new float[][] {expected}, new float[][] {mixed[r]}));
                    worst = Math.max(worst, FloatRows.maxAbsDiff(new float[][] {expected}, new float[][] {perAdapter[r]}));
                }
                System.out.printf("mixed batch vs own models: max |diff| %.2e%n", worst);
                assertTrue(worst <= 1e-6, "mixed batch differs from the adapters' own models by " + worst);
                // the adapters really differ on the same text, so a row given the wrong adapter would fail above
                for (int a = 1; a < 4; a++) {
                    float[] first = own.get(0).predict(List.of(TEXTS.get(0)), 1)[0];
                    float[] other = own.get(a == 1 ? 2 : a).predict(List.of(TEXTS.get(0)), 1)[0];
                    assertTrue(Math.abs(first[0] - other[0]) > 1e-3, "adapters 0 and " + a + " agree on a text");
                }
            } finally {
                shared.forEach(TextModel::close);
                own.forEach(TextModel::close);
            }
        }
    }

    @Test
    void promptTuningRefusesToMixAndLowRankMethodsJoin() throws Exception {
        try (SharedBase base = SharedBase.of(TinyBert.backbone(7))) {
            for (AdapterMethod m : methods()) {
                try (TextModel model = base.adapterModel(m, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(1))) {
                    boolean refuses = MixedBatchPredictor.mixedBatchRefusal(model).isPresent();
                    assertEquals(m instanceof PromptTuningConfig, refuses, m.descriptor().name());
                }
            }
        }
    }

    @Test
    void aModelOnAnotherBaseIsRefused() throws Exception {
        Backbone backbone = TinyBert.backbone(7);
        try (SharedBase base = SharedBase.of(backbone);
             TextModel alone = TextModel.create(backbone, methods().get(0), TaskKind.SINGLE_LABEL, 2, 24,
                     new SplittableRandom(1))) {
            MixedBatchPredictor predictor = new MixedBatchPredictor(base);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> predictor.predict(
                    List.of(new MixedBatchPredictor.Row(alone, "a")), MixedBatchPredictor.Batching.MIXED));
            assertTrue(e.getMessage().contains("not built on this predictor's base"), e.getMessage());
        }
    }

    @Test
    void closingASharedModelFreesItsArraysButNotTheBase() throws Exception {
        try (SharedBase base = SharedBase.of(TinyBert.backbone(7))) {
            TextModel m = base.adapterModel(methods().get(1), TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(1));
            // DoRA on 12 modules of 16→16 / 16→32 / 32→16 layers, rank 4, plus a 2×16 head
            long expected = 0;
            for (var p : m.trainableParameters().values()) {
                expected += p.getArray().getShape().size() * 4;
            }
            assertEquals(expected, m.adapterBytes());
            var a = m.trainableParameters().values().iterator().next().getArray();
            m.close();
            assertTrue(a.isReleased(), "adapter array still allocated after close");
            assertTrue(!base.encoder().baseParameters().values().iterator().next().getArray().isReleased());
            try (TextModel again = base.adapterModel(methods().get(0), TaskKind.SINGLE_LABEL, 2, 24,
                    new SplittableRandom(1))) {
                assertEquals(2, again.predict(List.of("still works"), 1)[0].length);
            }
        }
    }
}
