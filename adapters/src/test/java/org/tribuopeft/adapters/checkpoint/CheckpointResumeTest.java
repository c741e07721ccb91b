package org.tribuopeft.adapters.checkpoint;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TrainingDivergedException;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.Outcome;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.assertSameOutcome;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.config;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.every;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.interruptAfter;
import static org.tribuopeft.adapters.checkpoint.CheckpointRuns.train;

/** Checkpoints do not change training, and resuming from one gives the uninterrupted run bit for bit. */
class CheckpointResumeTest {
    private static Outcome loraUninterrupted;

    @TempDir
    Path dir;

    @BeforeAll
    static void uninterrupted() throws Exception {
        loraUninterrupted = train(CheckpointRuns.lora(), new FineTuner(config(9), ProgressListener.NONE));
    }

    /** Trains until {@code step}, saving every {@code every} steps, then stops as a crash would. */
    private void interruptedRun(AdapterMethod method, int every, int step) {
        FineTuner tuner = new FineTuner(config(9), interruptAfter(step)).withCheckpoints(every(dir, every, 3));
        assertThrows(CheckpointRuns.Interrupted.class, () -> train(method, tuner));
    }

    private Outcome resume(AdapterMethod method, PrintStream notices) throws Exception {
        return train(method, new FineTuner(config(9), ProgressListener.NONE).resumingFrom(dir).withNotices(notices));
    }

    private static List<String> names(Path d) throws Exception {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void checkpointsDoNotChangeTheTrainedWeights() throws Exception {
        Outcome with = train(CheckpointRuns.lora(),
                new FineTuner(config(9), ProgressListener.NONE).withCheckpoints(every(dir, 5, 3)));
        assertSameOutcome(loraUninterrupted, with);
        // every 5 steps and at the end of epoch 1 (step 12): 5, 10, 12, 15, 20, 24; the newest 3 are kept
        assertEquals(List.of("checkpoint-15", "checkpoint-20", "checkpoint-24"), names(dir));
    }

    @Test
    void resumingMidEpochGivesTheUninterruptedLoraRunBitForBit() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 7);
        assertEquals(List.of("checkpoint-5"), names(dir));
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Outcome resumed = resume(CheckpointRuns.lora(), new PrintStream(notes, true, StandardCharsets.UTF_8));
        assertSameOutcome(loraUninterrupted, resumed);
        assertEquals("resuming from " + dir.resolve("checkpoint-5") + " (after step 5 of epoch 1)\n",
                notes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void resumingAfterAnEpochEndGivesTheUninterruptedRun() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 0, 14);
        assertEquals(List.of("checkpoint-12"), names(dir));
        assertSameOutcome(loraUninterrupted, resume(CheckpointRuns.lora(), System.err));
    }

    @Test
    void resumingAdaLoraRestoresTheAllocatorAndGivesTheUninterruptedRunBitForBit() throws Exception {
        Outcome uninterrupted = train(CheckpointRuns.adaLora(), new FineTuner(config(9), ProgressListener.NONE));
        interruptedRun(CheckpointRuns.adaLora(), 5, 11);
        Outcome resumed = resume(CheckpointRuns.adaLora(), System.err);
        assertSameOutcome(uninterrupted, resumed);
        long pruned = uninterrupted.masks().values().stream()
                .mapToLong(m -> java.util.stream.IntStream.range(0, m.length).filter(i -> !m[i]).count()).sum();
        assertEquals(4 * (4 - 2), pruned, "4 AdaLoRA matrices each pruned from rank 4 to 2");
    }

    @Test
    void resumingKeepsTheEarlyStoppingBookkeepingAndTheBestEpoch() throws Exception {
        // inverted validation labels: epoch 1 scores best, so patience 1 stops after epoch 2 and restores epoch 1
        List<org.tribuopeft.adapters.train.LabelledText> inverted = CheckpointRuns.VALID.stream()
                .map(e -> new org.tribuopeft.adapters.train.LabelledText(e.text(),
                        new float[] {e.target()[1], e.target()[0]})).toList();
        org.tribuopeft.adapters.train.TrainingConfig patient =
                new org.tribuopeft.adapters.train.TrainingConfig(4, 4, 2e-2, 0.0, 0.1, 1.0, 1, 16, 9);
        Outcome uninterrupted;
        try (var m = CheckpointRuns.model(CheckpointRuns.lora())) {
            var r = new FineTuner(patient, ProgressListener.NONE).fit(m, CheckpointRuns.TRAIN, inverted);
            uninterrupted = new Outcome(m.snapshot().values(), m.rankMasks(), r);
        }
        assertTrue(uninterrupted.report().stoppedEarly());
        try (var m = CheckpointRuns.model(CheckpointRuns.lora())) {
            FineTuner interrupted = new FineTuner(patient, interruptAfter(15)).withCheckpoints(every(dir, 0, 3));
            assertThrows(CheckpointRuns.Interrupted.class, () -> interrupted.fit(m, CheckpointRuns.TRAIN, inverted));
        }
        assertTrue(CheckpointReader.read(dir.resolve("checkpoint-12")).hasBest(), "epoch 1's weights are saved");
        Outcome resumed;
        try (var m = CheckpointRuns.model(CheckpointRuns.lora())) {
            var r = new FineTuner(patient, ProgressListener.NONE).resumingFrom(dir).fit(m, CheckpointRuns.TRAIN,
                    inverted);
            resumed = new Outcome(m.snapshot().values(), m.rankMasks(), r);
        }
        assertSameOutcome(uninterrupted, resumed);
        assertEquals(uninterrupted.report().bestEpoch(), resumed.report().bestEpoch());
        assertEquals(uninterrupted.report().epochs().size(), resumed.report().epochs().size());
        assertTrue(resumed.report().stoppedEarly());
    }

    @Test
    void aFlippedByteInTheNewestCheckpointFallsBackToThePreviousOne() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 11);
        assertEquals(List.of("checkpoint-10", "checkpoint-5"), names(dir));
        Path tensors = dir.resolve("checkpoint-10").resolve(CheckpointFolder.TENSORS);
        byte[] bytes = Files.readAllBytes(tensors);
        bytes[bytes.length - 3] ^= 0x5A;
        Files.write(tensors, bytes);
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Outcome resumed = resume(CheckpointRuns.lora(), new PrintStream(notes, true, StandardCharsets.UTF_8));
        String text = notes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("warning: skipping checkpoint " + dir.resolve("checkpoint-10")
                + ": state.safetensors fails its SHA-256 check (recorded "), text);
        assertTrue(text.contains("; trying the previous one\nresuming from " + dir.resolve("checkpoint-5")
                + " (after step 5 of epoch 1)\n"), text);
        assertSameOutcome(loraUninterrupted, resumed);
    }

    @Test
    void aTruncatedNewestCheckpointFallsBackToThePreviousOne() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 11);
        Path tensors = dir.resolve("checkpoint-10").resolve(CheckpointFolder.TENSORS);
        try (FileChannel ch = FileChannel.open(tensors, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        ByteArrayOutputStream notes = new ByteArrayOutputStream();
        Outcome resumed = resume(CheckpointRuns.lora(), new PrintStream(notes, true, StandardCharsets.UTF_8));
        assertTrue(notes.toString(StandardCharsets.UTF_8).startsWith("warning: skipping checkpoint "
                + dir.resolve("checkpoint-10") + ": state.safetensors fails its SHA-256 check"));
        assertSameOutcome(loraUninterrupted, resumed);
    }

    @Test
    void aMissingOrUnparsableManifestIsSkippedWithItsReason() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 3, 11);
        assertEquals(List.of("checkpoint-3", "checkpoint-6", "checkpoint-9"), names(dir));
        Files.delete(dir.resolve("checkpoint-9").resolve(CheckpointFolder.MANIFEST));
        Files.writeString(dir.resolve("checkpoint-6").resolve(CheckpointFolder.MANIFEST), "{\"format\": ");
        List<String> notes = new java.util.ArrayList<>();
        CheckpointReader.Loaded loaded = CheckpointReader.newestValid(dir, notes::add);
        assertEquals(dir.resolve("checkpoint-3"), loaded.folder());
        assertEquals(3, loaded.state().globalStep());
        assertEquals("warning: skipping checkpoint " + dir.resolve("checkpoint-9")
                + ": checkpoint.json is missing; trying the previous one", notes.get(0));
        assertTrue(notes.get(1).startsWith("warning: skipping checkpoint " + dir.resolve("checkpoint-6")
                + ": checkpoint.json cannot be parsed ("), notes.get(1));
        assertEquals(2, notes.size());
    }

    @Test
    void anEditedManifestFailsItsChecksum() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 6);
        Path manifest = dir.resolve("checkpoint-5").resolve(CheckpointFolder.MANIFEST);
        Files.writeString(manifest, Files.readString(manifest).replace("\"globalStep\" : 5", "\"globalStep\" : 6"));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> CheckpointReader.newestValid(dir, s -> { }));
        assertEquals("cannot resume: none of the 1 checkpoints in " + dir + " is valid (checkpoint-5: checkpoint.json "
                + "fails its SHA-256 check); start the run again without resuming", e.getMessage());
    }

    @Test
    void aCheckpointOfAnotherRunIsRefusedNamingTheDifference() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 6);
        CheckpointMismatchException seed = assertThrows(CheckpointMismatchException.class, () -> train(
                CheckpointRuns.lora(), new FineTuner(config(10), ProgressListener.NONE).resumingFrom(dir)));
        assertEquals("seed", seed.field());
        assertEquals("checkpoint " + dir.resolve("checkpoint-5") + " belongs to a different run: seed is 10 in this run "
                + "but 9 in the checkpoint; resume with the settings and data of the run that wrote it, or start "
                + "without resuming", seed.getMessage());
        CheckpointMismatchException batch = assertThrows(CheckpointMismatchException.class, () -> train(
                CheckpointRuns.lora(), new FineTuner(config(9).withEpochs(2, 8), ProgressListener.NONE)
                        .resumingFrom(dir)));
        assertEquals("batchSize", batch.field());
        CheckpointMismatchException method = assertThrows(CheckpointMismatchException.class, () -> train(
                new org.tribuopeft.adapters.lora.LoraConfig(8, 8, 0.1, List.of("query", "value")),
                new FineTuner(config(9), ProgressListener.NONE).resumingFrom(dir)));
        assertEquals("method", method.field());
    }

    @Test
    void aResumeUnderAnotherComputePrecisionIsRefusedEitherWay() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 6);
        CheckpointMismatchException toBf16 = assertThrows(CheckpointMismatchException.class, () -> train(
                CheckpointRuns.lora(), new FineTuner(config(9).withComputePrecision(ComputePrecision.BFLOAT16),
                        ProgressListener.NONE).resumingFrom(dir)));
        assertEquals("computePrecision", toBf16.field());
        assertEquals("checkpoint " + dir.resolve("checkpoint-5") + " belongs to a different run: computePrecision is "
                + "bfloat16 in this run but float32 in the checkpoint; resume with the settings and data of the run "
                + "that wrote it, or start without resuming", toBf16.getMessage());

        Path bf16Dir = dir.resolve("bf16");
        FineTuner bf16 = new FineTuner(config(9).withComputePrecision(ComputePrecision.BFLOAT16), interruptAfter(6))
                .withCheckpoints(every(bf16Dir, 5, 3));
        assertThrows(CheckpointRuns.Interrupted.class, () -> train(CheckpointRuns.lora(), bf16));
        CheckpointMismatchException toF32 = assertThrows(CheckpointMismatchException.class, () -> train(
                CheckpointRuns.lora(), new FineTuner(config(9), ProgressListener.NONE).resumingFrom(bf16Dir)));
        assertEquals("computePrecision", toF32.field());
        assertTrue(toF32.getMessage().contains("computePrecision is float32 in this run but bfloat16 in the checkpoint"),
                toF32.getMessage());
    }

    @Test
    void resumingABfloat16RunGivesTheUninterruptedBfloat16RunBitForBit() throws Exception {
        FineTuner uninterrupted = new FineTuner(config(9).withComputePrecision(ComputePrecision.BFLOAT16),
                ProgressListener.NONE);
        Outcome expected = train(CheckpointRuns.lora(), uninterrupted);
        FineTuner interrupted = new FineTuner(config(9).withComputePrecision(ComputePrecision.BFLOAT16),
                interruptAfter(7)).withCheckpoints(every(dir, 5, 3));
        assertThrows(CheckpointRuns.Interrupted.class, () -> train(CheckpointRuns.lora(), interrupted));
        Outcome resumed = train(CheckpointRuns.lora(), new FineTuner(config(9).withComputePrecision(
                ComputePrecision.BFLOAT16), ProgressListener.NONE).resumingFrom(dir)
                .withNotices(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        assertSameOutcome(expected, resumed);
    }

    @Test
    void resumingFromAFolderWithoutCheckpointsSaysWhatToGive() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> train(CheckpointRuns.lora(),
                new FineTuner(config(9), ProgressListener.NONE).resumingFrom(dir)));
        assertEquals("cannot resume: " + dir + " holds no checkpoint-<step> folder; give the checkpointDir of the "
                + "interrupted run", e.getMessage());
    }

    @Test
    void aFreshRunRefusesAFolderThatHoldsCheckpoints() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 6);
        CheckpointException e = assertThrows(CheckpointException.class, () -> train(CheckpointRuns.lora(),
                new FineTuner(config(9), ProgressListener.NONE).withCheckpoints(every(dir, 5, 3))));
        assertEquals("checkpoint folder " + dir + " already holds 1 checkpoint(s), the newest checkpoint-5; resume from "
                + "it (train --resume " + dir + ", or the trainer's resumeFrom) or choose an empty checkpointDir",
                e.getMessage());
        assertEquals(List.of("checkpoint-5"), names(dir));
    }

    @Test
    void aResumedRunRefusesToSaveIntoAnotherRunsCheckpointFolder() throws Exception {
        interruptedRun(CheckpointRuns.lora(), 5, 6);
        Path other = Files.createDirectories(dir.resolve("other").resolve("checkpoint-40"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> train(CheckpointRuns.lora(),
                new FineTuner(config(9), ProgressListener.NONE).resumingFrom(dir)
                        .withCheckpoints(every(other.getParent(), 5, 3))));
        assertTrue(e.getMessage().startsWith("checkpoint folder " + other.getParent() + " already holds 1 "
                + "checkpoint(s), the newest checkpoint-40;"), e.getMessage());
        assertTrue(Files.isDirectory(other));
    }

    @Test
    void onlyTheNewestAreKeptAndOtherFilesAreLeftAlone() throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "mine");
        Files.createDirectories(dir.resolve("checkpoint-best"));
        Files.writeString(dir.resolve("checkpoint-best").resolve("weights.bin"), "mine too");
        Files.writeString(dir.resolve("checkpoint-7.txt"), "also mine");
        train(CheckpointRuns.lora(), new FineTuner(config(9), ProgressListener.NONE).withCheckpoints(every(dir, 2, 2)));
        assertEquals(List.of("checkpoint-22", "checkpoint-24", "checkpoint-7.txt", "checkpoint-best", "notes.txt"),
                names(dir));
        assertEquals("mine", Files.readString(dir.resolve("notes.txt")));
        assertEquals("mine too", Files.readString(dir.resolve("checkpoint-best").resolve("weights.bin")));
        assertEquals(List.of(CheckpointFolder.MANIFEST, CheckpointFolder.TENSORS), names(dir.resolve("checkpoint-24")));
    }

    @Test
    void anInjectedNanStopsAtTheFirstStepAndSaysNoCheckpointWasSaved() throws Exception {
        try (var m = CheckpointRuns.model(CheckpointRuns.lora())) {
            HostTensor.copyInto(new HostTensor(new long[] {2}, new float[] {Float.NaN, 0f}),
                    m.head().bias().getArray());
            HostTensor before = HostTensor.of(m.trainableParameters().get(
                    "encoder.layer.0.attention.self.query.lora_A.weight").getArray());
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new FineTuner(config(9),
                    ProgressListener.NONE).fit(m, CheckpointRuns.TRAIN, CheckpointRuns.VALID));
            assertEquals("training diverged at epoch 1, step 1: the loss is NaN; the weights were not updated with it "
                    + "and no checkpoint was saved (set a checkpoint folder to keep one); lower the learning rate (0.005) "
                    + "or check the data", e.getMessage());
            assertEquals(1, e.step());
            assertEquals(null, e.parameter());
            assertTrue(before.bitEquals(HostTensor.of(m.trainableParameters().get(
                    "encoder.layer.0.attention.self.query.lora_A.weight").getArray())), "weights untouched");
        }
    }

    @Test
    void divergenceNamesTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
        FineTuner tuner = new FineTuner(config(9).withLearningRate(1e30), ProgressListener.NONE)
                .withCheckpoints(every(dir, 1, 2));
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> train(CheckpointRuns.lora(), tuner));
        int good = e.step() - 1;
        Path last = dir.resolve("checkpoint-" + good);
        assertEquals(last, e.lastCheckpoint());
        assertEquals("training diverged at epoch 1, step " + e.step() + ": the loss is NaN; the weights were not "
                + "updated with it and the last good checkpoint " + last + " is kept; lower the learning rate (1.0E30) "
                + "or check the data", e.getMessage());
        TrainingState state = CheckpointReader.read(last);
        assertEquals(good, state.globalStep());
        for (HostTensor t : state.parameters().values()) {
            for (float v : t.data()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }
}
