package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.train.EpochResult;
import org.tribuopeft.adapters.train.TrainingReport;
import org.tribuopeft.provenance.replay.ProvenanceFlattener;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The training-run record marshals, survives JSON, and flattens to readable paths. */
class RunProvenanceTest {

    static TrainingRunProvenance sample() {
        TrainingReport report = new TrainingReport(List.of(
                new EpochResult(1, 10, 0.69, 0.66, "accuracy", 0.72, 12.5),
                new EpochResult(2, 10, 0.51, 0.55, "accuracy", 0.78, 12.1)), 3, 30, 20, 2, true, 1.1, 1.2, 25.0);
        return TrainingRunProvenance.builder(report, new EngineProvenance(Map.of())).seeds(11L, -42L)
                .invocationCount(3).parameters(1234L, 99999L)
                .rankPattern(Map.of("encoder.layer.0.attention.self.query", new boolean[] {true, false, true}))
                .examples(80, 20).resolvedSettings(Map.of("epochs", "7")).build();
    }

    @Test
    void marshalsAndRoundTripsThroughJson() throws Exception {
        TrainingRunProvenance p = sample();
        assertEquals(p, ProvenanceUtil.unmarshalProvenance(ProvenanceUtil.marshalProvenance(p)));
        JsonProvenanceSerialization json = new JsonProvenanceSerialization(true);
        ObjectProvenance back = json.deserializeAndUnmarshal(json.marshalAndSerialize(p));
        assertEquals(p, back);
        assertEquals(2, ((TrainingRunProvenance) back).epochsRun());
        assertEquals(Map.of("encoder.layer.0.attention.self.query", "101"), ((TrainingRunProvenance) back).rankPattern());
        assertEquals(Map.of("epochs", "7"), ((TrainingRunProvenance) back).resolvedSettings());
    }

    @Test
    void flattensToSortedPaths() {
        Map<String, String> flat = ProvenanceFlattener.flatten(sample());
        assertEquals("0.51", flat.get("epochs.[1].train-loss"));
        assertEquals("true", flat.get("stopped-early"));
        assertEquals("101", flat.get("rank-pattern.encoder.layer.0.attention.self.query"));
        assertEquals("org.tribuopeft.provenance.TrainingRunProvenance", flat.get("class-name"));
    }
}
