package org.tribuopeft.adapters.peft;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A PEFT folder whose weights hold NaN or infinity is refused on reading, naming the file and the tensor. */
class PeftNonFiniteTensorTest {
    static final String KEY = "base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight";

    /** Writes an untrained LoRA folder, then puts {@code bad} at index 5 of {@link #KEY}. */
    static Path folderWith(Path dir, float bad) throws Exception {
        Backbone base = TinyBert.backbone(5);
        try (TextModel m = TextModel.create(base, new LoraConfig(4, 8, 0.0, List.of("query", "value")),
                TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(2))) {
            PeftAdapterWriter.write(dir, PeftRoundTripTest.adapterOf(m), PeftKeyStyle.SEQUENCE_CLASSIFICATION, Map.of());
        }
        Path weights = dir.resolve(PeftAdapterWriter.WEIGHTS);
        SafetensorsReader.Content content = SafetensorsReader.read(weights);
        Map<String, HostTensor> tensors = new LinkedHashMap<>(content.floats());
        HostTensor t = tensors.get(KEY);
        float[] values = t.data().clone();
        values[5] = bad;
        tensors.put(KEY, new HostTensor(t.shape(), values));
        SafetensorsWriter.write(weights, tensors, content.metadata());
        return weights;
    }

    @Test
    void nanInAnAdapterTensorIsRefusedNamingTheFileAndTensor(@TempDir Path tmp) throws Exception {
        Path weights = folderWith(tmp.resolve("nan"), Float.NaN);
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> PeftAdapterReader.read(tmp.resolve("nan"), TinyBert.config()));
        assertEquals(weights + ": tensor '" + KEY + "' holds NaN at index 5 (of 64 values, shape [4, 16]); trained "
                + "weights are always finite, so the file is corrupted: use an intact copy or train again",
                e.getMessage());
    }

    @Test
    void infinityInAnAdapterTensorIsRefusedToo(@TempDir Path tmp) throws Exception {
        folderWith(tmp.resolve("inf"), Float.NEGATIVE_INFINITY);
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> PeftAdapterReader.read(tmp.resolve("inf"), TinyBert.config()));
        assertEquals(true, e.getMessage().contains("tensor '" + KEY + "' holds -Infinity at index 5"), e.getMessage());
    }
}
