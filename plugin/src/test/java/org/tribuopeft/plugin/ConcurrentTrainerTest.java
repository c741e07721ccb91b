package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two AdapterTrainer.train calls on two threads (as Tribuo cross-validation makes) each give the model trained alone. */
class ConcurrentTrainerTest {
    private static final MutableDataset<Label> DATA = TinyDatasets.labels(32, 1);

    private static Map<String, HostTensor> train(boolean adaLora) {
        AdapterTrainer<Label> t = AdapterModelSerializationTest.trainer(adaLora
                ? new AdaLoraConfig(4, 2, 8, List.of("query", "value"))
                : new LoraConfig(4, 8, 0.1, List.of("query", "value")));
        AdapterModel<Label> m = t.train(DATA);
        Map<String, HostTensor> out = m.trainedTensors();
        m.close();
        return out;
    }

    @Test
    void twoTrainCallsOnTwoThreadsEachGiveTheModelTrainedAlone() throws Exception {
        Map<String, HostTensor> loraAlone = train(false);
        Map<String, HostTensor> adaLoraAlone = train(true);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch go = new CountDownLatch(1);
            Future<Map<String, HostTensor>> lora = pool.submit(() -> {
                go.await();
                return train(false);
            });
            Future<Map<String, HostTensor>> adaLora = pool.submit(() -> {
                go.await();
                return train(true);
            });
            go.countDown();
            assertBitIdentical(loraAlone, lora.get(120, TimeUnit.SECONDS));
            assertBitIdentical(adaLoraAlone, adaLora.get(120, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assertBitIdentical(Map<String, HostTensor> expected, Map<String, HostTensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertTrue(v.bitEquals(actual.get(k)), k));
    }
}
