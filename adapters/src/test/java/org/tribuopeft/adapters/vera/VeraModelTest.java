package org.tribuopeft.adapters.vera;

import ai.djl.nn.Parameter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VeRA installed in the tiny BERT: what trains, what stays frozen, and saving in both formats. */
class VeraModelTest {
    static final List<LabelledText> TRAIN = SyntheticTexts.twoClass(48, 1);
    static final List<String> TEXTS = SyntheticTexts.twoClass(20, 9).stream().map(LabelledText::text).toList();
    static final int R = 24;

    private static TextModel model(VeraConfig config, long seed) throws Exception {
        return TextModel.create(TinyBert.backbone(5), config, TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(seed));
    }

    private static void train(TextModel m) throws Exception {
        new FineTuner(new TrainingConfig(2, 8, 2e-2, 0.0, 0.0, 1.0, 0, 32, 3), ProgressListener.NONE)
                .fit(m, TRAIN, List.of());
    }

    private static VeraConfig qvd() {
        return new VeraConfig(R, 0.1, 0.0, List.of("query", "value", "dense"));
    }

    @Test
    void trainableCountIsOutPlusRPerAdaptedLayerAsPeftCountsIt() throws Exception {
        try (TextModel m = model(qvd(), 1)) {
            // per layer: query, value, attention.output.dense (out 16), intermediate.dense (out 32), output.dense (16)
            assertEquals(2L * (4 * (16 + R) + (32 + R)), m.adapted().trainableParameterCount());
            assertEquals(List.of("vera_A", "vera_B"), List.copyOf(m.adapted().methodState().keySet()));
            assertArrayEquals(new long[] {R, 32}, m.adapted().methodState().get("vera_A").getArray().getShape().getShape());
            assertArrayEquals(new long[] {32, R}, m.adapted().methodState().get("vera_B").getArray().getShape().getShape());
        }
    }

    @Test
    void lambdaDStartsAtDInitialAndLambdaBAtZeroSoTheModelStartsAsTheBase() throws Exception {
        try (TextModel m = model(new VeraConfig(R, 0.25, 0.0, List.of("query")), 1)) {
            AdapterLayer l = m.adapted().layers().values().iterator().next();
            float[] d = l.adapterParameters().get("vera_lambda_d").getArray().toFloatArray();
            float[] b = l.adapterParameters().get("vera_lambda_b").getArray().toFloatArray();
            for (float v : d) {
                assertEquals(0.25f, v);
            }
            for (float v : b) {
                assertEquals(0f, v);
            }
        }
    }

    @Test
    void projectionsAreKaimingUniformWithinTheirBounds() throws Exception {
        try (TextModel m = model(qvd(), 1)) {
            float[] a = m.adapted().methodState().get("vera_A").getArray().toFloatArray();
            float[] b = m.adapted().methodState().get("vera_B").getArray().toFloatArray();
            double boundA = Math.sqrt(6.0 / 32);
            double boundB = Math.sqrt(6.0 / R);
            double maxA = 0;
            double maxB = 0;
            for (float v : a) {
                maxA = Math.max(maxA, Math.abs(v));
            }
            for (float v : b) {
                maxB = Math.max(maxB, Math.abs(v));
            }
            assertTrue(maxA <= boundA && maxA > 0.9 * boundA, "max |A| " + maxA + " for bound " + boundA);
            assertTrue(maxB <= boundB && maxB > 0.9 * boundB, "max |B| " + maxB + " for bound " + boundB);
        }
    }

    @Test
    void onlyTheLambdasAndTheHeadTrainWhileProjectionsAndBaseStayBitIdentical() throws Exception {
        try (TextModel m = model(qvd(), 1)) {
            Map<String, HostTensor> frozenBefore = new LinkedHashMap<>();
            m.adapted().methodState().forEach((k, p) -> frozenBefore.put(k, HostTensor.of(p.getArray())));
            m.adapted().encoder().baseParameters().forEach((k, p) -> frozenBefore.put(k, HostTensor.of(p.getArray())));
            Map<String, HostTensor> lambdasBefore = new LinkedHashMap<>();
            m.adapted().trainableParameters().forEach((k, p) -> lambdasBefore.put(k, HostTensor.of(p.getArray())));
            train(m);
            Map<String, Parameter> now = new LinkedHashMap<>(m.adapted().methodState());
            now.putAll(m.adapted().encoder().baseParameters());
            frozenBefore.forEach((k, v) -> assertTrue(v.bitEquals(HostTensor.of(now.get(k).getArray())),
                    "frozen " + k + " changed"));
            lambdasBefore.forEach((k, v) -> assertFalse(v.bitEquals(HostTensor.of(
                    m.adapted().trainableParameters().get(k).getArray())), "trainable " + k + " did not change"));
        }
    }

    @Test
    void aRestoredSnapshotGivesIdenticalPredictionsEvenFromAnotherGenerator() throws Exception {
        try (TextModel trained = model(qvd(), 1)) {
            train(trained);
            float[][] before = trained.predictLogits(TEXTS, 8);
            try (TextModel fresh = model(qvd(), 77)) {
                HostTensor trainedA = HostTensor.of(trained.adapted().methodState().get("vera_A").getArray());
                assertFalse(trainedA.bitEquals(HostTensor.of(fresh.adapted().methodState().get("vera_A").getArray())),
                        "another generator must draw other projections, or this test proves nothing");
                fresh.restore(trained.snapshot());
                float[][] after = fresh.predictLogits(TEXTS, 8);
                for (int i = 0; i < before.length; i++) {
                    assertArrayEquals(before[i], after[i]);
                }
            }
        }
    }

    @Test
    void peftFolderHoldsTheProjectionsAndReadsBackToIdenticalPredictions(@TempDir Path tmp) throws Exception {
        for (PeftKeyStyle style : PeftKeyStyle.values()) {
            try (TextModel m = model(qvd().withBias(BiasMode.LORA_ONLY), 1)) {
                train(m);
                float[][] before = m.predictLogits(TEXTS, 8);
                TextModel.Snapshot s = m.snapshot();
                Path dir = tmp.resolve(style.name());
                PeftAdapterWriter.write(dir, new PeftAdapter(m.adapted().method(), s.values(), s.rankMasks(), "tiny",
                        Map.of(), style), style, Map.of());
                JsonNode cfg = new ObjectMapper().readTree(dir.resolve(PeftAdapterWriter.CONFIG).toFile());
                assertEquals("VERA", cfg.get("peft_type").asText());
                assertEquals("vera_only", cfg.get("bias").asText());
                assertTrue(cfg.get("save_projection").asBoolean());
                assertEquals(R, cfg.get("r").asInt());
                Map<String, HostTensor> keys = SafetensorsReader.read(dir.resolve(PeftAdapterWriter.WEIGHTS)).floats();
                assertArrayEquals(new long[] {R, 32}, keys.get("base_model.vera_A").shape());
                assertArrayEquals(new long[] {32, R}, keys.get("base_model.vera_B").shape());
                assertArrayEquals(new long[] {32}, keys.get(style.encoderPrefix()
                        + "encoder.layer.1.intermediate.dense.vera_lambda_b").shape());
                assertTrue(keys.containsKey(style.encoderPrefix() + "encoder.layer.0.attention.self.query.base_layer.bias"));
                Backbone base = TinyBert.backbone(5);
                PeftAdapter read = PeftAdapterReader.read(dir, base.config());
                assertEquals(BiasMode.LORA_ONLY, ((VeraConfig) read.method()).bias());
                try (TextModel r = TextModel.create(base, read.method(), TaskKind.SINGLE_LABEL, 2, 24,
                        new SplittableRandom(99))) {
                    r.restore(new TextModel.Snapshot(read.tensors(), read.rankMasks()));
                    float[][] after = r.predictLogits(TEXTS, 8);
                    for (int i = 0; i < before.length; i++) {
                        assertArrayEquals(before[i], after[i], style.name());
                    }
                }
            }
        }
    }

    @Test
    void onnxAdapterInputsMultiplyToTheTransposedUpdate() throws Exception {
        try (TextModel m = model(qvd(), 1)) {
            train(m);
            Map<String, HostTensor> inputs = org.tribuopeft.adapters.export.OnnxAdapterParameters.of(m);
            for (Map.Entry<String, AdapterLayer> e : m.adapted().layers().entrySet()) {
                HostTensor a = inputs.get(e.getKey() + ".lora_A");
                HostTensor b = inputs.get(e.getKey() + ".lora_B");
                HostTensor delta = e.getValue().deltaWeight();
                int in = (int) a.dim(0);
                int out = (int) b.dim(1);
                assertArrayEquals(new long[] {delta.dim(1), delta.dim(0)}, new long[] {in, out}, e.getKey());
                double max = 0;
                for (int i = 0; i < in; i++) {
                    for (int o = 0; o < out; o++) {
                        double s = 0;
                        for (int k = 0; k < R; k++) {
                            s += (double) a.data()[i * R + k] * b.data()[k * out + o];
                        }
                        max = Math.max(max, Math.abs(s - delta.data()[o * in + i]));
                    }
                }
                assertTrue(max < 1e-6, e.getKey() + ": A·B differs from ΔWᵀ by " + max);
            }
        }
    }

    @Test
    void badSettingsAreRefusedByName() {
        PropertyException rank = assertThrows(PropertyException.class,
                () -> new VeraConfig(0, 0.1, 0.0, List.of("query")));
        assertTrue(rank.getMessage().contains("rank must be positive, found 0"), rank.getMessage());
        PropertyException d = assertThrows(PropertyException.class,
                () -> new VeraConfig(8, Double.NaN, 0.0, List.of("query")));
        assertTrue(d.getMessage().contains("dInitial must be a finite number, found NaN"), d.getMessage());
        PropertyException drop = assertThrows(PropertyException.class,
                () -> new VeraConfig(8, 0.1, 1.0, List.of("query")));
        assertTrue(drop.getMessage().contains("dropout must be in [0, 1), found 1.0"), drop.getMessage());
    }

    @Test
    void aFolderWithoutSavedProjectionsIsRefusedWithWhatToDo(@TempDir Path tmp) throws Exception {
        try (TextModel m = model(qvd(), 1)) {
            TextModel.Snapshot s = m.snapshot();
            Path dir = tmp.resolve("v");
            PeftAdapterWriter.write(dir, new PeftAdapter(m.adapted().method(), s.values(), s.rankMasks(), "tiny",
                    Map.of(), PeftKeyStyle.BARE_ENCODER), PeftKeyStyle.BARE_ENCODER, Map.of());
            ObjectMapper json = new ObjectMapper();
            ObjectNode cfg = (ObjectNode) json.readTree(dir.resolve(PeftAdapterWriter.CONFIG).toFile());
            cfg.put("save_projection", false);
            Files.writeString(dir.resolve(PeftAdapterWriter.CONFIG), json.writeValueAsString(cfg));
            ModelFileException e = assertThrows(ModelFileException.class,
                    () -> PeftAdapterReader.read(dir, TinyBert.config()));
            assertEquals(dir.resolve(PeftAdapterWriter.CONFIG) + ": save_projection=false: the folder does not hold "
                    + "VeRA's projections vera_A/vera_B, and PEFT would regenerate them with torch's random generator "
                    + "from projection_prng_key, which cannot be reproduced here; save the adapter again in PEFT with "
                    + "VeraConfig(save_projection=True)", e.getMessage());
        }
    }
}
