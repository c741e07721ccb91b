package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An initial adapter whose weights hold NaN is refused before training, naming the folder's weight file and the
 * tensor, instead of training on it and reporting "training diverged; lower the learning rate".
 */
class InitialAdapterNonFiniteTest {
    static final String KEY = "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight";

    @Test
    void aNanInTheInitialAdapterIsReportedByTensorNotAsDivergence(@TempDir Path tmp) throws Exception {
        AdapterModel<Label> first = AdapterModelSerializationTest.<Label>trainer(
                new LoraConfig(4, 8, 0.1, List.of("query", "value"))).train(TinyDatasets.labels(32, 1));
        Path dir = tmp.resolve("start");
        AdapterExports.writePeft(first, dir, PeftKeyStyle.SEQUENCE_CLASSIFICATION);
        first.close();
        Path weights = dir.resolve(PeftAdapterWriter.WEIGHTS);
        SafetensorsReader.Content content = SafetensorsReader.read(weights);
        Map<String, HostTensor> tensors = new LinkedHashMap<>(content.floats());
        float[] values = tensors.get(KEY).data().clone();
        values[0] = Float.NaN;
        tensors.put(KEY, new HostTensor(tensors.get(KEY).shape(), values));
        SafetensorsWriter.write(weights, tensors, content.metadata());

        ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", MethodSwitchingTest.configPath(),
            "--@trainer.backbone", AdapterModelSerializationTest.TINY, "--@trainer.initialAdapter", dir.toString(),
            "--@lora.dropout", "0.1", "--@csv.dataPath", CsvTexts.write(tmp.resolve("t.csv"), 32, 1).toString()});
        @SuppressWarnings("unchecked")
        AdapterTrainer<Label> trainer = (AdapterTrainer<Label>) cm.lookup("trainer");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> trainer.train(TinyDatasets.labels(32, 1)));
        assertEquals("initialAdapter " + dir + ": " + weights + ": tensor '" + KEY + "' holds NaN at index 0 (of 64 "
                + "values, shape [16, 4]); trained weights are always finite, so the file is corrupted: use an intact "
                + "copy or train again", e.getMessage());
    }
}
