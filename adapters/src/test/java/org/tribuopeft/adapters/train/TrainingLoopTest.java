package org.tribuopeft.adapters.train;

import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training loop on a tiny model: determinism, frozen weights, loss going down, early stopping. */
class TrainingLoopTest {
    static final List<LabelledText> TRAIN = SyntheticTexts.twoClass(64, 1);
    static final List<LabelledText> VALID = SyntheticTexts.twoClass(32, 2);

    static TrainingConfig config(long seed) {
        return new TrainingConfig(3, 8, 5e-3, 0.01, 0.1, 1.0, 0, 32, seed);
    }

    static TextModel model(AdapterMethod method, long seed) throws Exception {
        return TextModel.create(TinyBert.backbone(5), method, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(seed));
    }

    static List<AdapterMethod> methods() {
        return List.of(new LoraConfig(4, 8, 0.1, List.of("query", "value")),
                new DoraConfig(4, 8, 0.1, List.of("query", "value")),
                new AdaLoraConfig(4, 2, 8, List.of("query", "value")),
                new org.tribuopeft.adapters.vera.VeraConfig(8, 0.1, 0.1, List.of("query", "value")),
                new FullFineTuning());
    }

    private static Map<String, HostTensor> allWeights(TextModel m) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        m.adapted().encoder().namedParameters().forEach((k, p) -> out.put(k, HostTensor.of(p.getArray())));
        out.put("classifier.weight", HostTensor.of(m.head().weight().getArray()));
        out.put("classifier.bias", HostTensor.of(m.head().bias().getArray()));
        return out;
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsForEveryMethod() throws Exception {
        for (AdapterMethod method : methods()) {
            Map<String, HostTensor> first;
            Map<String, HostTensor> second;
            try (TextModel m = model(method, 3)) {
                new FineTuner(config(9), ProgressListener.NONE).fit(m, TRAIN, VALID);
                first = m.snapshot().values();
            }
            try (TextModel m = model(method, 3)) {
                new FineTuner(config(9), ProgressListener.NONE).fit(m, TRAIN, VALID);
                second = m.snapshot().values();
            }
            assertEquals(first.keySet(), second.keySet());
            for (String k : first.keySet()) {
                assertTrue(first.get(k).bitEquals(second.get(k)), method.descriptor().name() + ": " + k + " differs between runs");
            }
        }
    }

    @Test
    void differentTrainingSeedGivesDifferentWeights() throws Exception {
        Map<String, HostTensor> first;
        Map<String, HostTensor> second;
        AdapterMethod lora = new LoraConfig(4, 8, 0.1, List.of("query", "value"));
        try (TextModel m = model(lora, 3)) {
            new FineTuner(config(9), ProgressListener.NONE).fit(m, TRAIN, VALID);
            first = m.snapshot().values();
        }
        try (TextModel m = model(lora, 3)) {
            new FineTuner(config(10), ProgressListener.NONE).fit(m, TRAIN, VALID);
            second = m.snapshot().values();
        }
        assertFalse(first.get("classifier.weight").bitEquals(second.get("classifier.weight")));
    }

    @Test
    void trainingDropsTheBackbonesJavaCopyOfTheWeightsAndAnExportReadsThemAgain(@org.junit.jupiter.api.io.TempDir
                                                                                   java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path folder = dir.resolve("model");
        org.tribuopeft.adapters.backbone.Backbone.writeHfFolder(folder, TinyBert.weights(5), TinyBert.tokenizerJson());
        org.tribuopeft.adapters.backbone.Backbone backbone = org.tribuopeft.adapters.backbone.Backbone.fromHfFolder(
                folder, org.tribuopeft.adapters.backbone.Pooling.MEAN);
        String sha = backbone.weights().contentSha256();
        try (TextModel m = TextModel.create(backbone, new LoraConfig(4, 8, 0.1, List.of("query", "value")),
                TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3))) {
            assertTrue(backbone.holdsWeights());
            new FineTuner(config(9), ProgressListener.NONE).fit(m, TRAIN, VALID);
            assertFalse(backbone.holdsWeights(), "the encoder holds its own copy; training needs no other");
            assertEquals(sha, m.backbone().weights().contentSha256());
        }
    }

    @Test
    void frozenWeightsDoNotChangeAndTrainableOnesDo() throws Exception {
        for (AdapterMethod method : methods()) {
            try (TextModel m = model(method, 4)) {
                Map<String, Parameter> trainable = m.trainableParameters();
                Map<String, HostTensor> before = allWeights(m);
                new FineTuner(config(5), ProgressListener.NONE).fit(m, TRAIN, VALID);
                Map<String, HostTensor> after = allWeights(m);
                int changed = 0;
                for (String name : before.keySet()) {
                    boolean same = before.get(name).bitEquals(after.get(name));
                    if (trainable.containsKey(name)) {
                        changed += same ? 0 : 1;
                    } else {
                        assertTrue(same, method.descriptor().name() + ": frozen " + name + " changed");
                    }
                }
                // every trainable tensor moved (AdaLoRA's E may be pruned back to zero, so allow those)
                long expected = trainable.keySet().stream().filter(k -> !k.endsWith("lora_E")).count();
                assertTrue(changed >= expected, method.descriptor().name() + ": only " + changed + " of " + trainable.size()
                        + " trainable tensors changed");
            }
        }
    }

    @Test
    void frozenWeightsGetNoGradient() throws Exception {
        try (TextModel m = model(new LoraConfig(4, 8, 0, List.of("query", "value")), 4)) {
            for (Map.Entry<String, Parameter> e : m.adapted().encoder().namedParameters().entrySet()) {
                boolean trains = m.trainableParameters().containsKey(e.getKey());
                assertEquals(trains, e.getValue().getArray().hasGradient(), e.getKey());
            }
        }
    }

    @Test
    void trainingLossFallsAndTheTinyModelLearns() throws Exception {
        try (TextModel m = model(new LoraConfig(4, 8, 0, List.of("all-linear")), 6)) {
            TrainingReport r = new FineTuner(new TrainingConfig(6, 8, 1e-2, 0.0, 0.1, 1.0, 0, 32, 1),
                    ProgressListener.NONE).fit(m, TRAIN, VALID);
            double first = r.epochs().get(0).trainLoss();
            double last = r.last().trainLoss();
            System.out.printf("tiny LoRA: train loss %.4f -> %.4f, validation accuracy %.3f%n", first, last,
                    r.last().validationMetric());
            assertTrue(last < first * 0.8, "loss went from " + first + " to " + last);
            assertTrue(r.last().validationMetric() > 0.8, "accuracy " + r.last().validationMetric());
            assertEquals(6 * 8, r.stepsRun());
        }
    }

    @Test
    void reportHoldsEveryStepsLossAndEachEpochsMeanIsTheMeanOfItsSteps() throws Exception {
        try (TextModel m = model(new LoraConfig(4, 8, 0, List.of("query", "value")), 6)) {
            TrainingReport r = new FineTuner(new TrainingConfig(6, 8, 1e-2, 0.0, 0.1, 1.0, 0, 32, 2),
                    ProgressListener.NONE).fit(m, TRAIN, VALID);
            assertEquals(r.stepsRun(), r.stepLosses().size());
            int perEpoch = r.stepsRun() / r.epochs().size();
            for (EpochResult e : r.epochs()) {
                double mean = r.stepLosses().subList((e.epoch() - 1) * perEpoch, e.epoch() * perEpoch).stream()
                        .mapToDouble(Double::doubleValue).average().orElseThrow();
                assertEquals(e.trainLoss(), mean, 1e-9, "epoch " + e.epoch());
            }
        }
    }

    @Test
    void earlyStoppingRestoresTheBestEpoch() throws Exception {
        // validation labels inverted: the better the model learns, the worse it scores, so epoch 1 is best
        List<LabelledText> inverted = VALID.stream()
                .map(e -> new LabelledText(e.text(), new float[] {e.target()[1], e.target()[0]})).toList();
        try (TextModel m = model(new LoraConfig(4, 8, 0, List.of("all-linear")), 6)) {
            Map<Integer, TextModel.Snapshot> atEpoch = new LinkedHashMap<>();
            ProgressListener capture = new ProgressListener() {
                @Override
                public void onEpoch(EpochResult r) {
                    atEpoch.put(r.epoch(), m.snapshot());
                }
            };
            TrainingReport r = new FineTuner(new TrainingConfig(8, 8, 1e-2, 0.0, 0.1, 1.0, 2, 32, 1), capture)
                    .fit(m, TRAIN, inverted);
            assertTrue(r.stoppedEarly(), "should stop early");
            assertTrue(r.epochs().size() < 8);
            Map<String, HostTensor> kept = m.snapshot().values();
            Map<String, HostTensor> best = atEpoch.get(r.bestEpoch()).values();
            for (String k : best.keySet()) {
                assertTrue(best.get(k).bitEquals(kept.get(k)), k + " is not the best epoch's value");
            }
            double bestMetric = r.best().validationMetric();
            for (EpochResult e : r.epochs()) {
                assertTrue(e.validationMetric() <= bestMetric);
            }
        }
    }
}
