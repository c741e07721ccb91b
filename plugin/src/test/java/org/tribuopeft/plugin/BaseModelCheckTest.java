package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A saved model refuses a base whose checksum differs, unless told to accept it, and can follow a moved base. */
class BaseModelCheckTest {

    /** Copies the tiny base to {@code base}, trains a LoRA model on it and saves it; returns the model file. */
    static Path trainAndSave(Path tmp, Path base) throws Exception {
        Files.createDirectories(base);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(TinyBert.folder(21).resolve(f), base.resolve(f));
        }
        AdapterModel<Label> model = new AdapterTrainer<Label>(base.toString(),
                new LoraConfig(4, 8, 0.0, List.of("query")), 24, 8, 1, 5e-3, 1).withProgressSeconds(0)
                .train(TinyDatasets.labels(16, 1));
        Path file = tmp.resolve("model.tribuo");
        model.serializeToFile(file);
        model.close();
        return file;
    }

    @Test
    void loadingWithADifferentBaseFailsUnlessExplicitlyAllowed(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base");
        Path file = trainAndSave(tmp, base);

        Path weights = base.resolve("model.safetensors");
        String recorded = Sha256.ofFile(weights);
        Files.copy(TinyBert.folder(22).resolve("model.safetensors"), weights, StandardCopyOption.REPLACE_EXISTING);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Model.deserializeFromFile(file));
        Throwable cause = e;
        while (!(cause instanceof BaseModelMismatchException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof BaseModelMismatchException, "cause chain: " + e);
        assertTrue(cause.getMessage().contains(weights.toString()) && cause.getMessage().contains(recorded)
                && cause.getMessage().contains(Sha256.ofFile(weights)), cause.getMessage());

        System.setProperty(BackboneReference.ALLOW_MISMATCH, "true");
        try {
            @SuppressWarnings("unchecked")
            Model<Label> loaded = (Model<Label>) Model.deserializeFromFile(file);
            assertEquals(1, loaded.predict(TinyDatasets.examples(1, 2, TinyDatasets::label)).size());
            ((AdapterModel<?>) loaded).close();
        } finally {
            System.clearProperty(BackboneReference.ALLOW_MISMATCH);
        }
    }

    @Test
    void aMovedBaseIsFoundThroughTheLocationOverrideAndStillChecked(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base");
        Path file = trainAndSave(tmp, base);
        Path moved = tmp.resolve("moved");
        Files.move(base, moved);
        assertThrows(IllegalStateException.class, () -> Model.deserializeFromFile(file));
        System.setProperty(BackboneReference.LOCATION_OVERRIDE, moved.toString());
        try {
            Model<?> loaded = Model.deserializeFromFile(file);
            ((AdapterModel<?>) loaded).close();
        } finally {
            System.clearProperty(BackboneReference.LOCATION_OVERRIDE);
        }
    }
}
