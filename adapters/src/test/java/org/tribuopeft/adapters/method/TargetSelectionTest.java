package org.tribuopeft.adapters.method;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.HiddenActivation;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Target modules are matched exactly as PEFT matches them. */
class TargetSelectionTest {
    static final BertConfig MINILM = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, HiddenActivation.GELU,
            0.1, 0.1);

    private static List<String> select(List<String> modules, String regex, List<Integer> layers) {
        return new TargetSelection(modules, regex, layers).select(MINILM);
    }

    @Test
    void queryAndValueSelectTwelveModulesInLayerOrder() {
        List<String> s = select(List.of("value", "query"), "", List.of());
        assertEquals(12, s.size());
        assertEquals("encoder.layer.0.attention.self.query", s.get(0));
        assertEquals("encoder.layer.0.attention.self.value", s.get(1));
        assertEquals("encoder.layer.5.attention.self.value", s.get(11));
    }

    @Test
    void outputDenseMatchesBothOutputProjectionsAsInPeft() {
        List<String> s = select(List.of("output.dense"), "", List.of());
        assertEquals(12, s.size());
        assertTrue(s.contains("encoder.layer.3.attention.output.dense"));
        assertTrue(s.contains("encoder.layer.3.output.dense"));
    }

    @Test
    void denseMatchesAllThreeDenseLayersPerLayer() {
        assertEquals(18, select(List.of("dense"), "", List.of()).size());
    }

    @Test
    void allLinearSelectsEverySlot() {
        assertEquals(36, select(List.of("all-linear"), "", List.of()).size());
    }

    @Test
    void regexMustMatchTheWholeNameAndReplacesTheList() {
        List<String> s = select(List.of("query"), "encoder\\.layer\\.\\d+\\.output\\.dense", List.of());
        assertEquals(6, s.size());
        assertTrue(s.stream().allMatch(m -> m.endsWith(".output.dense") && !m.contains("attention")));
    }

    @Test
    void layersToTransformRestrictsLayers() {
        List<String> s = select(List.of("query", "value"), "", List.of(0, 5));
        assertEquals(List.of("encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
                "encoder.layer.5.attention.self.query", "encoder.layer.5.attention.self.value"), s);
    }

    @Test
    void aTypoIsReportedInsteadOfSilentlyIgnored() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(List.of("query", "valeu"), "", List.of()));
        assertTrue(e.getMessage().contains("'valeu'"), e.getMessage());
    }

    @Test
    void aLayerOutOfRangeIsReported() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> select(List.of("query"), "", List.of(6)));
        assertTrue(e.getMessage().contains("6") && e.getMessage().contains("0..5"), e.getMessage());
    }

    @Test
    void aRegexMatchingNothingIsReported() {
        assertThrows(IllegalArgumentException.class, () -> select(List.of(), "classifier", List.of()));
    }
}
