package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A loaded model predicts on any thread. PyTorch keeps its autograd switch per thread and DJL turns it off only
 * on the thread that started the engine, so on a server's worker thread restoring the trained tensors into
 * parameters that require gradients failed ("a leaf Variable that requires grad is being used in an in-place
 * operation"); the model file fuzz test found it.
 */
class AdapterModelThreadsTest {
    @Test
    void aLoadedModelPredictsOnAThreadThatNeverUsedTheEngine(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> model = new AdapterTrainer<Label>(TinyBert.folder(21).toString(),
                new LoraConfig(2, 4, 0.0, List.of("value")), 24, 8, 1, 5e-3, 5).withProgressSeconds(0)
                .train(TinyDatasets.labels(16, 1));
        List<Example<Label>> test = TinyDatasets.examples(4, 2, TinyDatasets::label);
        String expected = model.predict(test).stream().map(p -> p.getOutputScores().toString()).toList().toString();
        Path file = tmp.resolve("model.tribuo");
        model.serializeToFile(file);
        model.close();

        ExecutorService worker = Executors.newSingleThreadExecutor();
        try {
            String onWorker = worker.submit(() -> {
                try (AdapterModel<?> loaded = AdapterModels.loadAdapterModel(file)) {
                    @SuppressWarnings("unchecked")
                    AdapterModel<Label> labels = (AdapterModel<Label>) loaded;
                    return labels.predict(test).stream().map(p -> p.getOutputScores().toString()).toList().toString();
                }
            }).get(60, TimeUnit.SECONDS);
            assertEquals(expected, onWorker);
        } finally {
            worker.shutdownNow();
        }
    }
}
