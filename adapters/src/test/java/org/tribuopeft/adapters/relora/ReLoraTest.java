package org.tribuopeft.adapters.relora;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.FloatRows;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.AdamW;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ReLoRA's reset: exact merge, fresh factors, pruned moments, and settings validated by field. */
class ReLoraTest {
    private static final List<LabelledText> TRAIN = SyntheticTexts.twoClass(32, 1);

    private static TextModel trainedWithoutResets() throws Exception {
        TextModel m = TextModel.create(TinyBert.backbone(5),
                new ReLoraConfig(4, 8, 0.0, List.of("query", "value"), 1000, 0.99, 10),
                TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(7));
        new FineTuner(new TrainingConfig(2, 8, 5e-3, 0.01, 0.1, 1.0, 0, 32, 4), ProgressListener.NONE)
                .fit(m, TRAIN, List.of());
        return m;
    }

    @Test
    void resetKeepsTheOutputAndFoldsTheUpdateIntoTheBase() throws Exception {
        try (TextModel m = trainedWithoutResets()) {
            List<String> texts = TRAIN.stream().map(LabelledText::text).toList();
            float[][] before = m.predictLogits(texts, 16);
            Map<String, HostTensor> expectedBase = new LinkedHashMap<>();
            m.adapted().layers().forEach((module, l) -> {
                HostTensor w = HostTensor.of(l.base().weight().getArray());
                HostTensor d = l.deltaWeight();
                assertTrue(FloatRows.maxAbs(d.data()) > 1e-4, module + " never trained");
                float[] sum = w.data().clone();
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += d.data()[i];
                }
                expectedBase.put(module, new HostTensor(w.shape(), sum));
            });
            m.adapted().layers().values().forEach(l -> ((ReLoraLinear) l).restart(new SplittableRandom(1)));
            float[][] after = m.predictLogits(texts, 16);
            double diff = FloatRows.maxAbsDiff(before, after);
            System.out.printf("ReLoRA reset: max |logit diff| %.3e%n", diff);
            assertTrue(diff <= 1e-6, "a reset changed the logits by " + diff);
            m.adapted().layers().forEach((module, l) -> {
                HostTensor w = HostTensor.of(l.base().weight().getArray());
                assertEquals(0.0, w.maxAbsDiff(expectedBase.get(module)), module + ": base is not W + s·B·A");
            });
        }
    }

    @Test
    void resetDrawsAFreshKaimingAAndZeroesB() throws Exception {
        try (TextModel m = trainedWithoutResets(); NDManager scratch = m.manager().newSubManager()) {
            AdapterLayer first = m.adapted().layers().values().iterator().next();
            ReLoraLinear layer = (ReLoraLinear) first;
            layer.restart(new SplittableRandom(42));
            // TinyBert's hidden width 16: A ~ U(±1/√16), drawn exactly as LoRA initialises it
            HostTensor expectedA = HostTensor.of(LoraConfig.uniform(scratch, 4, 16, 1.0 / Math.sqrt(16),
                    new SplittableRandom(42)));
            assertTrue(expectedA.bitEquals(HostTensor.of(layer.loraA().getArray())));
            HostTensor b = HostTensor.of(layer.loraB().getArray());
            assertEquals(0.0, FloatRows.maxAbs(b.data()));
            assertEquals(0.0, FloatRows.maxAbs(layer.deltaWeight().data()));
        }
    }

    @Test
    void resetPrunesEachAdapterMomentToTheConfiguredFractionAndLeavesTheHeadAlone() throws Exception {
        try (TextModel m = trainedWithoutResets()) {
            ReLoraResets hook = (ReLoraResets) m.adapted().hook();
            Map<String, Parameter> trainable = m.trainableParameters();
            AdamW optimizer = new AdamW(trainable, 0.0);
            Map<String, HostTensor> first = randomMoments(trainable, 1);
            Map<String, HostTensor> second = randomMoments(trainable, 2);
            optimizer.restore(first, second, 3);
            hook.beforeTraining(100);
            hook.afterStep(999, Map.of(), optimizer);
            assertEquals(0, zeros(optimizer.firstMoments()), "no reset at step 999 of a 1000-step interval");
            hook.afterStep(1000, Map.of(), optimizer);
            assertEquals(0, zeros(optimizer.firstMoments()), "no reset after the last planned step");
            hook.beforeTraining(2000);
            hook.afterStep(1000, Map.of(), optimizer);
            Map<String, HostTensor> pruned = optimizer.firstMoments();
            assertEquals(8, hook.adapterParameters().size());
            for (String name : trainable.keySet()) {
                HostTensor t = pruned.get(name);
                int n = t.data().length;
                int expected = hook.adapterParameters().contains(name) ? (int) Math.floor(0.99 * n) : 0;
                assertEquals(expected, countZeros(t), name + " of " + n + " values");
                // the kept entries are the largest in magnitude
                float largestPruned = 0;
                float smallestKept = Float.MAX_VALUE;
                for (int i = 0; i < n; i++) {
                    float a = Math.abs(first.get(name).data()[i]);
                    if (t.data()[i] == 0f) {
                        largestPruned = Math.max(largestPruned, a);
                    } else {
                        smallestKept = Math.min(smallestKept, a);
                    }
                }
                assertTrue(largestPruned <= smallestKept, name);
            }
            // query A [4, 16]: 64 values, floor(0.99·64) = 63 zeroed in each of the two moments
            assertEquals(63, countZeros(optimizer.secondMoments()
                    .get("encoder.layer.0.attention.self.query.lora_A.weight")));
            assertEquals(64 * 2, optimizer.prune(List.of("encoder.layer.0.attention.self.query.lora_A.weight"), 1.0));
            assertEquals(64, countZeros(optimizer.firstMoments()
                    .get("encoder.layer.0.attention.self.query.lora_A.weight")));
            optimizer.close();
        }
    }

    private static Map<String, HostTensor> randomMoments(Map<String, Parameter> params, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            long[] shape = p.getArray().getShape().getShape();
            float[] v = new float[Math.toIntExact(HostTensor.elementCount(shape))];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rng.nextDouble(0.001, 1.0) * (rng.nextBoolean() ? 1 : -1));
            }
            out.put(name, new HostTensor(shape, v));
        });
        return out;
    }

    private static long zeros(Map<String, HostTensor> moments) {
        return moments.values().stream().mapToLong(ReLoraTest::countZeros).sum();
    }

    private static int countZeros(HostTensor t) {
        int z = 0;
        for (float v : t.data()) {
            z += v == 0f ? 1 : 0;
        }
        return z;
    }

    @Test
    void invalidSettingsAreRefusedNamingTheField() {
        PropertyException interval = assertThrows(PropertyException.class,
                () -> new ReLoraConfig(4, 8, 0, List.of("query"), 0, 0.99, 0));
        assertEquals("resetInterval", interval.getProperty());
        assertEquals("resetInterval must be a positive number of steps, found 0", interval.getMsg());
        PropertyException ratio = assertThrows(PropertyException.class,
                () -> new ReLoraConfig(4, 8, 0, List.of("query"), 10, 1.5, 0));
        assertEquals("optimizerPruneRatio", ratio.getProperty());
        assertEquals("optimizerPruneRatio must be in [0, 1] (0.99 keeps the largest 1%), found 1.5", ratio.getMsg());
        PropertyException warm = assertThrows(PropertyException.class,
                () -> new ReLoraConfig(4, 8, 0, List.of("query"), 10, 0.99, 10));
        assertEquals("restartWarmupSteps", warm.getProperty());
        assertEquals("restartWarmupSteps must be at least 0 and below resetInterval (10), found 10", warm.getMsg());
        assertEquals("rank", assertThrows(PropertyException.class,
                () -> new ReLoraConfig(0, 8, 0, List.of("query"), 10, 0.99, 1)).getProperty());
    }
}
