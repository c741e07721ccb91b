package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.TinyBert;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training loop's compute precision: float32 unless configured, bfloat16 only inside each step's forward and
 * backward pass (single process and data-parallel alike), evaluation in float32, and bfloat16 runs as repeatable as
 * float32 ones. The tests that need the encoder to actually compute in bfloat16 are skipped while it does not.
 */
class ComputePrecisionTrainingTest {
    private static final AdapterMethod LORA = new LoraConfig(4, 8, 0.1, List.of("query", "value"));

    private static TrainingConfig config(ComputePrecision precision) {
        return TrainingConfig.builder(9).epochs(1).batchSize(8).learningRate(5e-3).evalBatchSize(16)
                .computePrecision(precision).build();
    }

    /** The step losses and trained tensors of one tiny LoRA run. */
    private record Run(List<Double> losses, Map<String, HostTensor> tensors, TrainingReport report) {}

    private static Run train(TrainingConfig config, DataParallel layout) throws Exception {
        try (TextModel m = TrainingLoopTest.model(LORA, 3)) {
            FineTuner tuner = new FineTuner(config, ProgressListener.NONE);
            TrainingReport r = layout == null ? tuner.fit(m, TrainingLoopTest.TRAIN, TrainingLoopTest.VALID)
                    : tuner.withDataParallel(layout).fit(m, TrainingLoopTest.TRAIN, List.of());
            return new Run(r.stepLosses(), m.snapshot().values(), r);
        }
    }

    /** True when the encoder computes differently inside a bfloat16 scope. */
    private static boolean encoderHonoursBfloat16() throws Exception {
        try (TextModel m = TrainingLoopTest.model(LORA, 3)) {
            List<String> texts = TrainingLoopTest.VALID.stream().map(LabelledText::text).toList();
            float[][] f32 = m.predictLogits(texts, 16);
            float[][] bf16;
            try (ComputePrecision.Scope s = ComputePrecision.use(ComputePrecision.BFLOAT16)) {
                bf16 = m.predictLogits(texts, 16);
            }
            return !Arrays.deepEquals(f32, bf16);
        }
    }

    @Test
    void float32IsTheDefaultAndCopiesKeepTheSetting() {
        assertEquals(ComputePrecision.FLOAT32, TrainingConfig.defaults(1).computePrecision());
        assertEquals(ComputePrecision.FLOAT32, new TrainingConfig(1, 2, 1e-3, 0, 0, 1, 0, 2, 1).computePrecision());
        TrainingConfig bf16 = TrainingConfig.defaults(1).withComputePrecision(ComputePrecision.BFLOAT16);
        assertEquals(ComputePrecision.BFLOAT16, bf16.computePrecision());
        assertEquals(ComputePrecision.BFLOAT16, bf16.withEpochs(5, 4).withLearningRate(1e-2).withEarlyStopping(1)
                .computePrecision());
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> TrainingConfig.builder(1).computePrecision(null).build());
        assertEquals("computePrecision must be FLOAT32 or BFLOAT16, not null", e.getMessage());
    }

    @Test
    void theScopeCoversOnlyTheStepsPassesAndClosesWhenAStepFails() throws Exception {
        List<ComputePrecision> seen = new ArrayList<>();
        ProgressListener stopAtTwo = new ProgressListener() {
            @Override
            public void onStep(StepProgress p) {
                seen.add(ComputePrecision.current());
                if (p.step() == 2) {
                    throw new IllegalStateException("stop");
                }
            }
        };
        try (TextModel m = TrainingLoopTest.model(LORA, 3)) {
            assertThrows(IllegalStateException.class, () -> new FineTuner(config(ComputePrecision.BFLOAT16), stopAtTwo)
                    .fit(m, TrainingLoopTest.TRAIN, TrainingLoopTest.VALID));
        }
        // between steps (where listeners, clipping and AdamW run) and after the run, the thread is float32 again
        assertEquals(List.of(ComputePrecision.FLOAT32, ComputePrecision.FLOAT32), seen);
        assertEquals(ComputePrecision.FLOAT32, ComputePrecision.current());
    }

    @Test
    void bfloat16RunsRepeatBitForBitAndStayCloseToFloat32() throws Exception {
        Run first = train(config(ComputePrecision.BFLOAT16), null);
        Run again = train(config(ComputePrecision.BFLOAT16), null);
        Run f32 = train(config(ComputePrecision.FLOAT32), null);
        assertEquals(first.losses(), again.losses());
        for (String k : first.tensors().keySet()) {
            assertTrue(first.tensors().get(k).bitEquals(again.tensors().get(k)), k);
        }
        assertEquals(f32.losses().size(), first.losses().size());
        for (int i = 0; i < f32.losses().size(); i++) {
            // bfloat16 keeps 8 significant bits (relative rounding 2^-9 per product); over two tiny layers and a
            // few steps the loss (about ln 2) moves by far less than 0.05
            assertEquals(f32.losses().get(i), first.losses().get(i), 0.05, "step " + (i + 1));
        }
    }

    @Test
    void bfloat16ReachesTheEncoderInBothLoopsAndEvaluationStaysFloat32() throws Exception {
        assertTrue(encoderHonoursBfloat16(), "predictions inside a bfloat16 scope should differ from float32's");
        Run f32 = train(config(ComputePrecision.FLOAT32), null);
        Run bf16 = train(config(ComputePrecision.BFLOAT16), null);
        assertNotEquals(f32.losses().get(0), bf16.losses().get(0), "the first step's loss should show bfloat16");

        DataParallel layout = DataParallel.simulated(new int[] {32, 32});
        Run f32Replicas = train(config(ComputePrecision.FLOAT32), layout);
        Run bf16Replicas = train(config(ComputePrecision.BFLOAT16), layout);
        assertNotEquals(f32Replicas.losses().get(0), bf16Replicas.losses().get(0),
                "each replica's step should run in bfloat16 too");

        // the epoch's validation loss is the float32 loss of the trained weights, not a bfloat16 one
        try (TextModel m = TrainingLoopTest.model(LORA, 3)) {
            TrainingReport r = new FineTuner(config(ComputePrecision.BFLOAT16), ProgressListener.NONE)
                    .fit(m, TrainingLoopTest.TRAIN, TrainingLoopTest.VALID);
            List<String> texts = TrainingLoopTest.VALID.stream().map(LabelledText::text).toList();
            float[][] targets = TrainingLoopTest.VALID.stream().map(LabelledText::target).toArray(float[][]::new);
            assertEquals(loss(m, m.predictLogits(texts, 16), targets), r.last().validationLoss());
            float[][] bf16Logits;
            try (ComputePrecision.Scope s = ComputePrecision.use(ComputePrecision.BFLOAT16)) {
                bf16Logits = m.predictLogits(texts, 16);
            }
            assertNotEquals(loss(m, bf16Logits, targets), r.last().validationLoss());
        }
    }

    @Test
    void bfloat16IsRefusedOnAQuantizedBaseBeforeAnyStep() throws Exception {
        try (TextModel m = TextModel.create(TinyBert.wideBackbone(31), BaseQuantization.qlora(), LORA,
                TaskKind.SINGLE_LABEL, 2, 24, new SplittableRandom(3))) {
            Map<String, HostTensor> before = m.snapshot().values();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FineTuner(
                    config(ComputePrecision.BFLOAT16), ProgressListener.NONE).fit(m, TrainingLoopTest.TRAIN, List.of()));
            assertEquals("computePrecision bfloat16 cannot apply to a base quantized as " + BaseQuantization.qlora()
                    + ": its Linear layers compute in the quantization's computeType (float32); train in float32 or "
                    + "on a float32 base", e.getMessage());
            m.snapshot().values().forEach((k, v) -> assertTrue(v.bitEquals(before.get(k)), k));
        }
    }

    private static double loss(TextModel m, float[][] logits, float[][] targets) {
        try (NDManager sub = m.manager().newSubManager()) {
            NDArray l = sub.create(logits);
            return m.task().loss(l, sub.create(targets)).getFloat();
        }
    }
}
