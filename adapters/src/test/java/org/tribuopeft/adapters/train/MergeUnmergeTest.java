package org.tribuopeft.adapters.train;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.FloatRows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** After training, merged and unmerged models agree, and unmerging restores the frozen weights. */
class MergeUnmergeTest {

    @Test
    void mergedEqualsUnmergedAndUnmergeRestoresWeightsForEveryLowRankMethod() throws Exception {
        List<AdapterMethod> methods = List.of(
                new LoraConfig(4, 8, 0.1, List.of("all-linear")),
                new LoraConfig(4, 8, 0.0, List.of("query", "value")).withRslora(true).withInit(LoraInit.PISSA),
                new DoraConfig(4, 8, 0.1, List.of("query", "value", "dense")),
                new AdaLoraConfig(4, 2, 8, List.of("query", "value", "dense")),
                new org.tribuopeft.adapters.vera.VeraConfig(24, 0.1, 0.1, List.of("query", "value", "dense")));
        List<String> texts = TrainingLoopTest.VALID.stream().map(LabelledText::text).toList();
        for (AdapterMethod method : methods) {
            try (TextModel m = TrainingLoopTest.model(method, 8)) {
                new FineTuner(TrainingLoopTest.config(3), ProgressListener.NONE).fit(m, TrainingLoopTest.TRAIN, List.of());
                Map<String, HostTensor> base = new LinkedHashMap<>();
                m.adapted().encoder().baseParameters().forEach((k, p) -> base.put(k, HostTensor.of(p.getArray())));
                // the updates must have moved away from zero for the check to mean anything (an AdaLoRA layer
                // whose every triplet was pruned legitimately has none)
                m.adapted().layers().forEach((name, l) -> {
                    if (l.effectiveRank() > 0) {
                        assertTrue(maxAbs(l.deltaWeight()) > 1e-6, method + ": update of " + name + " is still zero");
                    }
                });

                float[][] unmerged = m.predictLogits(texts, 16);
                m.adapted().merge();
                assertTrue(m.adapted().isMerged());
                float[][] merged = m.predictLogits(texts, 16);
                m.adapted().unmerge();
                assertFalse(m.adapted().isMerged());
                float[][] again = m.predictLogits(texts, 16);

                double outDiff = FloatRows.maxAbsDiff(unmerged, merged);
                double weightDiff = 0;
                for (Map.Entry<String, HostTensor> e : base.entrySet()) {
                    HostTensor now = HostTensor.of(m.adapted().encoder().baseParameters().get(e.getKey()).getArray());
                    weightDiff = Math.max(weightDiff, e.getValue().maxAbsDiff(now));
                }
                System.out.printf("%s: merged vs unmerged logits %.2e, weights after unmerge %.2e%n", method, outDiff,
                        weightDiff);
                assertTrue(outDiff <= 1e-5, method + ": merged logits differ by " + outDiff);
                assertTrue(weightDiff <= 1e-6, method + ": unmerge left weights off by " + weightDiff);
                assertTrue(FloatRows.maxAbsDiff(unmerged, again) <= 1e-5, method + ": outputs after unmerge differ");
            }
        }
    }

    static double maxAbs(HostTensor t) {
        double m = 0;
        for (float v : t.data()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
