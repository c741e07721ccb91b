package org.tribuopeft.provenance.replay;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A replay compares the union of both models' tensor names: a tensor on one side only is a difference. */
class ReplayReportTest {
    private static final HostTensor ONE = new HostTensor(new long[] {2}, new float[] {1f, 2f});

    @Test
    void aTensorMissingOnEitherSideIsADifference() {
        List<ReplayReport.TensorDiff> diffs = ModelReplayer.compareTensors(
                Map.of("a", ONE, "only-original", ONE), Map.of("a", ONE, "only-replay", ONE));
        assertEquals(List.of(
                new ReplayReport.TensorDiff("a", 0.0, true, ""),
                new ReplayReport.TensorDiff("only-original", Double.POSITIVE_INFINITY, false, "missing in the replay"),
                new ReplayReport.TensorDiff("only-replay", Double.POSITIVE_INFINITY, false, "missing in the original")),
                diffs);
        ReplayReport report = new ReplayReport(diffs, List.of(), List.of());
        assertFalse(report.bitIdentical());
        String text = report.render();
        assertTrue(text.startsWith("replay: 3 trained tensors compared, max |diff| = Infinity -> DIFFERENT"), text);
        assertTrue(text.contains("only-replay") && text.contains("missing in the original"), text);
    }

    @Test
    void aReplayWithOnlyTheOriginalsTensorsIsNotIdenticalWhenTheReplayHasMore() {
        ReplayReport report = new ReplayReport(ModelReplayer.compareTensors(Map.of("a", ONE),
                Map.of("a", ONE, "extra", ONE)), List.of(), List.of());
        assertFalse(report.bitIdentical());
        assertEquals(2, report.tensors().size());
    }

    @Test
    void aShapeChangeIsNamed() {
        HostTensor other = new HostTensor(new long[] {1, 2}, new float[] {1f, 2f});
        assertEquals(List.of(new ReplayReport.TensorDiff("a", Double.POSITIVE_INFINITY, false,
                "shape [2] in the original, [1, 2] in the replay")),
                ModelReplayer.compareTensors(Map.of("a", ONE), Map.of("a", other)));
    }
}
