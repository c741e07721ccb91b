package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.checkpoint.CheckpointFolder;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.cli.TribuoPeftCliTest.cli;
import static org.tribuopeft.cli.TribuoPeftCliTest.concat;

/** {@code train --resume}: continues an interrupted run to the same adapter, and refuses another run's checkpoints. */
class TribuoPeftCliResumeTest {

    private static Map<String, HostTensor> adapter(Path runDir) throws Exception {
        return SafetensorsReader.read(runDir.resolve("adapter/adapter_model.safetensors")).floats();
    }

    @Test
    void trainResumeContinuesTheInterruptedRunToTheSameAdapter(@TempDir Path tmp) throws Exception {
        Path config = Paths.get(TribuoPeftCliTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        StringBuilder csv = new StringBuilder("text,label\n");
        for (LabelledText t : SyntheticTexts.twoClass(40, 4)) {
            csv.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? "pos" : "neg").append('\n');
        }
        Path data = Files.writeString(tmp.resolve("texts.csv"), csv.toString());
        Path checkpoints = tmp.resolve("checkpoints");
        String[] common = {"--config", config.toString(), "--@trainer.backbone", TinyBert.folder(21).toString(),
            "--@csv.dataPath", data.toString(), "--@trainer.checkpointDir", checkpoints.toString(),
            "--@trainer.checkpointEverySteps", "1", "--@trainer.checkpointsKept", "10"};
        TribuoPeftCliTest.Run first = cli(concat(new String[] {"train", "--output", tmp.resolve("run1").toString()},
                common));
        assertEquals(0, first.code(), first.err());
        assertEquals(List.of(4, 3, 2, 1), CheckpointFolder.list(checkpoints).stream()
                .map(CheckpointFolder.Entry::step).toList());
        for (CheckpointFolder.Entry e : CheckpointFolder.list(checkpoints)) {
            if (e.step() > 2) {
                AtomicFiles.deleteRecursively(e.path()); // as if killed after step 2
            }
        }

        TribuoPeftCliTest.Run other = cli(concat(new String[] {"train", "--resume", checkpoints.toString(),
            "--@trainer.seed", "12"}, common));
        assertEquals(1, other.code());
        assertTrue(other.err().startsWith("error: checkpoint " + checkpoints.resolve("checkpoint-2")
                + " belongs to a different run: seed is "), other.err());

        TribuoPeftCliTest.Run resumed = cli(concat(new String[] {"train", "--resume", checkpoints.toString(), "--output",
            tmp.resolve("run2").toString()}, common));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().startsWith("resuming from the newest valid checkpoint in "
                + checkpoints.toAbsolutePath() + "\n"), resumed.out());
        Map<String, HostTensor> expected = adapter(tmp.resolve("run1"));
        Map<String, HostTensor> actual = adapter(tmp.resolve("run2"));
        assertEquals(expected.keySet(), actual.keySet());
        expected.forEach((k, v) -> assertTrue(v.bitEquals(actual.get(k)), k));
    }

    @Test
    void resumeFromAMissingFolderIsAUsageError(@TempDir Path tmp) throws Exception {
        Path config = Paths.get(TribuoPeftCliTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        TribuoPeftCliTest.Run r = cli("train", "--config", config.toString(), "--resume", tmp.resolve("nope").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: --resume " + tmp.resolve("nope") + " is not a folder; give the "
                + "checkpointDir of the interrupted run\n"), r.err());
    }
}
