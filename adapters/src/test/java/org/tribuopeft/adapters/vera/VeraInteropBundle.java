package org.tribuopeft.adapters.vera;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.peft.PythonPeftFoldersTest;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the Java side of the VeRA interop fixture: a VeRA adapter of ours (random λ vectors, so the update
 * is far from zero) on the interop base as a PEFT folder, and the last hidden states our engine computes
 * for the token ids of {@code expected.json}. {@code java ... VeraInteropBundle <peft-python dir>}; then
 * {@code vera/vera.py <peft-python dir>} checks it in Python PEFT and writes PEFT's own VeRA folder.
 */
public final class VeraInteropBundle {
    /** The settings of the fixture adapter: r 8 on query, value and every dense layer. */
    static final VeraConfig CONFIG = new VeraConfig(8, 0.1, 0.0, List.of("query", "value", "dense"));

    private VeraInteropBundle() {}

    /** Writes {@code vera/ours_vera} and {@code vera/ours_vera.json} under {@code args[0]}. */
    public static void main(String[] args) throws Exception {
        Path root = Paths.get(args[0]);
        ObjectMapper json = new ObjectMapper();
        JsonNode expected = json.readTree(root.resolve("expected.json").toFile());
        TokenBatch batch = new TokenBatch(PythonPeftFoldersTest.rows(expected.get("ids")),
                PythonPeftFoldersTest.rows(expected.get("mask")), PythonPeftFoldersTest.rows(expected.get("types")));
        Backbone base = Backbone.fromHfFolder(root.resolve("base"), Pooling.MEAN);
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            AdaptedEncoder adapted = CONFIG.apply(base.createEncoder(manager), new SplittableRandom(2026));
            SplittableRandom values = new SplittableRandom(7);
            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            adapted.trainableParameters().forEach((name, p) -> {
                HostTensor t = HostTensor.of(p.getArray());
                float[] d = t.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) values.nextDouble(-1, 1);
                }
                HostTensor.copyInto(t, p.getArray());
                tensors.put(name, t);
            });
            adapted.methodState().forEach((name, p) -> tensors.put(name, HostTensor.of(p.getArray())));
            PeftAdapterWriter.write(root.resolve("vera").resolve("ours_vera"), new PeftAdapter(CONFIG, tensors, Map.of(),
                    "base", Map.of(), PeftKeyStyle.BARE_ENCODER), PeftKeyStyle.BARE_ENCODER, Map.of());
            ArrayNode hidden = json.createArrayNode();
            for (float v : adapted.encoder().encode(manager, batch).toFloatArray()) {
                hidden.add(v);
            }
            Files.writeString(root.resolve("vera").resolve("ours_vera.json"), json.writeValueAsString(hidden));
        }
    }
}
