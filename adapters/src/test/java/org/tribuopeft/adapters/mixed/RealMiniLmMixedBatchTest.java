package org.tribuopeft.adapters.mixed;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** On the real all-MiniLM-L6-v2, a mixed batch of LoRA, DoRA, VeRA and AdaLoRA rows equals each adapter's own model. */
class RealMiniLmMixedBatchTest {
    private static final List<String> TEXTS = List.of("A gripping film with a weak ending.",
            "I want my two hours back.", "The soundtrack alone is worth the ticket!",
            "Solid acting, but the plot drags in the middle and never recovers.");

    @Test
    void mixedBatchOnMiniLmEqualsEachAdaptersOwnModel() throws Exception {
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        List<AdapterMethod> methods = MixedBatchPredictorTest.methods().subList(0, 4);
        List<TextModel> shared = new ArrayList<>();
        try (SharedBase base = SharedBase.of(backbone)) {
            MixedBatchPredictor predictor = new MixedBatchPredictor(base);
            double worst = 0;
            try {
                List<float[][]> expected = new ArrayList<>();
                for (int i = 0; i < methods.size(); i++) {
                    TextModel m = base.adapterModel(methods.get(i), TaskKind.SINGLE_LABEL, 2, 64, new SplittableRandom(i));
                    TextModel.Snapshot snap = MixedBatchPredictorTest.randomised(m, 300 + i);
                    m.restore(snap);
                    shared.add(m);
                    // each adapter's own model, on its own copy of the base, one at a time to bound memory
                    try (TextModel alone = TextModel.create(backbone, methods.get(i), TaskKind.SINGLE_LABEL, 2, 64,
                            new SplittableRandom(i))) {
                        alone.restore(snap);
                        expected.add(alone.predict(TEXTS, TEXTS.size()));
                    }
                }
                List<MixedBatchPredictor.Row> rows = new ArrayList<>();
                for (int t = 0; t < TEXTS.size(); t++) {
                    for (TextModel m : shared) {
                        rows.add(new MixedBatchPredictor.Row(m, TEXTS.get(t)));
                    }
                }
                float[][] mixed = predictor.predict(rows, MixedBatchPredictor.Batching.MIXED);
                for (int r = 0; r < rows.size(); r++) {
                    float[] own = expected.get(r % methods.size())[r / methods.size()];
                    worst = Math.max(worst, FloatRows.maxAbsDiff(new float[][] {own}, new float[][] {mixed[r]}));
                }
            } finally {
                shared.forEach(TextModel::close);
            }
            System.out.printf("MiniLM mixed batch (LoRA, DoRA, VeRA, AdaLoRA) vs own models: max |diff| %.2e%n", worst);
            assertTrue(worst <= 1e-6, "mixed batch differs from the adapters' own models by " + worst);
        }
    }
}
