package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.checkpoint.CheckpointFolder;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer's checkpoint settings: validated, left out of provenance, and resuming gives the same model. */
class AdapterTrainerCheckpointTest {
    private static final MutableDataset<Label> DATA = TinyDatasets.labels(32, 1);

    @TempDir
    Path dir;

    private static void assertSameTensors(Map<String, HostTensor> expected, Map<String, HostTensor> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertEquals(0.0, v.maxAbsDiff(actual.get(k)), k));
        expected.forEach((k, v) -> assertTrue(v.bitEquals(actual.get(k)), k));
    }

    @Test
    void checkpointSettingsAreValidatedNamingTheField() throws Exception {
        PropertyException kept = assertThrows(PropertyException.class,
                () -> AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), 2, 0));
        assertEquals("checkpointsKept", kept.getProperty());
        assertEquals("checkpointsKept must be at least 1, found 0", kept.getMsg());
        PropertyException every = assertThrows(PropertyException.class,
                () -> AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), -1, 3));
        assertEquals("checkpointEverySteps must be >= 0 (0 = only at epoch ends), found -1", every.getMsg());
        PropertyException noDir = assertThrows(PropertyException.class,
                () -> AdapterTrainerTest.trainer().withCheckpoints("", 5, 3));
        assertEquals("checkpointEverySteps", noDir.getProperty());
        assertEquals("checkpointEverySteps is 5 but checkpointDir is empty; set checkpointDir to the folder for the "
                + "checkpoints", noDir.getMsg());
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertEquals("checkpointDir " + file + " is a file, not a folder", assertThrows(PropertyException.class,
                () -> AdapterTrainerTest.trainer().withCheckpoints(file.toString(), 0, 3)).getMsg());
        PropertyException resume = assertThrows(PropertyException.class,
                () -> AdapterTrainerTest.trainer().withResumeFrom(dir.resolve("missing").toString()));
        assertEquals("resumeFrom", resume.getProperty());
        assertEquals("resumeFrom " + dir.resolve("missing") + " is not a folder; give the checkpointDir of the "
                + "interrupted run", resume.getMsg());
    }

    @Test
    void checkpointsDoNotChangeTheModelOrItsTrainerProvenance() {
        AdapterModel<Label> plain = AdapterTrainerTest.trainer().train(DATA);
        AdapterModel<Label> checkpointed = AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), 1, 2)
                .train(DATA);
        assertSameTensors(plain.trainedTensors(), checkpointed.trainedTensors());
        assertEquals(plain.getProvenance().getTrainerProvenance(), checkpointed.getProvenance().getTrainerProvenance());
        assertEquals(List.of(7, 8), listSteps(dir).stream().sorted().toList());
        plain.close();
        checkpointed.close();
    }

    private static List<Integer> listSteps(Path d) {
        try {
            return CheckpointFolder.list(d).stream().map(CheckpointFolder.Entry::step).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void resumingFromJavaGivesTheUninterruptedModel() throws Exception {
        AdapterModel<Label> full = AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), 1, 100).train(DATA);
        for (CheckpointFolder.Entry e : CheckpointFolder.list(dir)) {
            if (e.step() > 3) {
                AtomicFiles.deleteRecursively(e.path()); // as if the run had been killed after step 3
            }
        }
        AdapterModel<Label> resumed = AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), 1, 100)
                .withResumeFrom(dir.toString()).train(DATA);
        assertSameTensors(full.trainedTensors(), resumed.trainedTensors());
        assertEquals(full.getProvenance().getTrainerProvenance(), resumed.getProvenance().getTrainerProvenance());
        assertEquals(8, listSteps(dir).size());
        full.close();
        resumed.close();
    }

    @Test
    void laterTrainCallsCheckpointIntoTheirOwnSubfolder() {
        AdapterTrainer<Label> t = AdapterTrainerTest.trainer().withCheckpoints(dir.toString(), 0, 3);
        t.train(DATA).close();
        t.train(DATA).close();
        assertEquals(List.of(8, 4), listSteps(dir));
        assertEquals(List.of(8, 4), listSteps(dir.resolve("invocation-1")));
    }
}
