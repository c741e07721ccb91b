package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.impl.ArrayExample;
import org.tribuo.test.Helpers;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.full.FullFineTuning;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many adapters over one base: each example is predicted exactly as its own adapter's model predicts it. */
class MultiAdapterModelTest {

    @Test
    void eachExampleGetsThePredictionOfItsAdaptersModel() {
        AdapterModel<Label> lora = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        AdapterModel<Label> dora = AdapterModelSerializationTest.<Label>trainer(
                new DoraConfig(2, 4, 0.0, List.of("dense"))).train(TinyDatasets.labels(32, 2));
        AdapterModel<Label> ada = AdapterModelSerializationTest.<Label>trainer(
                new AdaLoraConfig(4, 2, 8, List.of("value"))).train(TinyDatasets.labels(32, 3));
        Map<String, AdapterModel<Label>> byName = Map.of("support", lora, "sales", dora, "legal", ada);
        MultiAdapterModel<Label> multi = MultiAdapterModel.of("three-teams", new java.util.LinkedHashMap<>(byName),
                "team");

        List<Example<Label>> base = TinyDatasets.examples(18, 4, TinyDatasets::label);
        List<Example<Label>> routed = new ArrayList<>();
        List<String> names = List.of("support", "sales", "legal");
        for (int i = 0; i < base.size(); i++) {
            Map<String, Object> meta = new HashMap<>(base.get(i).getMetadata());
            meta.put("team", names.get(i % 3));
            ArrayExample<Label> e = new ArrayExample<>(base.get(i).getOutput(), meta);
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            routed.add(e);
        }
        List<Prediction<Label>> together = multi.predict(routed);
        // each adapter's own model predicts the same, within float rounding: the mixed batch pads to its longest text
        // and runs the base matmuls over every example at once
        for (int n = 0; n < names.size(); n++) {
            List<Example<Label>> mine = new ArrayList<>();
            for (int i = n; i < routed.size(); i += 3) {
                mine.add(routed.get(i));
            }
            List<Prediction<Label>> alone = byName.get(names.get(n)).predict(mine);
            for (int k = 0; k < mine.size(); k++) {
                int i = n + 3 * k;
                for (var s : alone.get(k).getOutputScores().entrySet()) {
                    assertEquals(s.getValue().getScore(), together.get(i).getOutputScores().get(s.getKey()).getScore(),
                            1e-6, "example " + i + " via " + names.get(n));
                }
            }
        }
        Helpers.testModelProtoSerialization(multi, Label.class, routed);

        ArrayExample<Label> stray = new ArrayExample<>(new Label("pos"), Map.of("text", "good", "team", "hr"));
        stray.add(TextPresenceProcessor.FEATURE, 1.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> multi.predict(stray));
        assertTrue(e.getMessage().contains("hr") && e.getMessage().contains("support"), e.getMessage());
        multi.close();
    }

    @Test
    void aMultiAdapterModelPredictsOnAThreadThatNeverUsedTheEngine() throws Exception {
        AdapterModel<Label> lora = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(2, 4, 0.0, List.of("value"))).train(TinyDatasets.labels(16, 1));
        AdapterModel<Label> ada = AdapterModelSerializationTest.<Label>trainer(
                new AdaLoraConfig(4, 2, 8, List.of("value"))).train(TinyDatasets.labels(16, 3));
        Map<String, AdapterModel<Label>> byName = new java.util.LinkedHashMap<>();
        byName.put("a", lora);
        byName.put("b", ada);
        List<Example<Label>> routed = new ArrayList<>();
        List<Example<Label>> base = TinyDatasets.examples(6, 4, TinyDatasets::label);
        for (int i = 0; i < base.size(); i++) {
            Map<String, Object> meta = new HashMap<>(base.get(i).getMetadata());
            meta.put("team", i % 2 == 0 ? "a" : "b");
            ArrayExample<Label> e = new ArrayExample<>(base.get(i).getOutput(), meta);
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            routed.add(e);
        }
        Prediction<Label> expected = lora.predict(routed.subList(0, 1)).get(0);
        // built and used only on a worker thread, where PyTorch starts with autograd on
        java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            Prediction<Label> onWorker = worker.submit(() -> {
                MultiAdapterModel<Label> multi = MultiAdapterModel.of("two", byName, "team");
                Prediction<Label> p = multi.predict(routed).get(0);
                multi.close();
                return p;
            }).get(60, java.util.concurrent.TimeUnit.SECONDS);
            // within float rounding: the mixed batch pads to the longest of the six texts
            assertEquals(expected.getOutput().getLabel(), onWorker.getOutput().getLabel());
            for (var s : expected.getOutputScores().entrySet()) {
                assertEquals(s.getValue().getScore(), onWorker.getOutputScores().get(s.getKey()).getScore(), 1e-6,
                        s.getKey());
            }
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void aFullFineTuneCannotShareTheBase() {
        AdapterModel<Label> lora = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query"))).train(TinyDatasets.labels(16, 1));
        AdapterModel<Label> full = AdapterModelSerializationTest.<Label>trainer(new FullFineTuning())
                .train(TinyDatasets.labels(16, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MultiAdapterModel.of("m", new java.util.LinkedHashMap<>(Map.of("a", lora, "b", full)), "k"));
        assertTrue(e.getMessage().startsWith("adapter 'b' changes base weights (full fine-tuning trains every weight)"),
                e.getMessage());
    }

    /**
     * PiSSA's set-up subtracts its initial factors from the shared weights, so a plain LoRA beside it predicted
     * differently from its own model (0.47826 instead of 0.48053 on the first example); it is refused in either order.
     */
    @Test
    void aPissaAdapterIsRefusedBecauseItsSetUpWouldChangeTheOthersBase() {
        AdapterModel<Label> plain = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query", "value"))).train(TinyDatasets.labels(16, 1));
        AdapterModel<Label> pissa = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.0, List.of("query", "value")).withInit(LoraInit.PISSA))
                .train(TinyDatasets.labels(16, 2));
        String expected = "adapter 'pissa' changes base weights (PiSSA subtracts its initial factors from every adapted "
                + "weight, W <- W - s*B*A); adapters sharing one base must agree on base, outputs, length, text field "
                + "and pooling, and leave the base unchanged (serve this model on its own; a PiSSA adapter exported as "
                + "a PEFT folder is plain LoRA and can be imported to share)";
        for (List<String> order : List.of(List.of("pissa", "plain"), List.of("plain", "pissa"))) {
            Map<String, AdapterModel<Label>> byName = new java.util.LinkedHashMap<>();
            order.forEach(n -> byName.put(n, n.equals("pissa") ? pissa : plain));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MultiAdapterModel.of("m", byName, "team"));
            assertEquals(expected, e.getMessage(), order.toString());
        }
        plain.close();
        pissa.close();
    }
}
