package org.tribuopeft.adapters.lora;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.method.BiasMode;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The {@code with*} methods of the method configs return new objects of the same class and never change the one
 * they are called on, whose settings a trainer or a saved model may already hold.
 */
class MethodConfigCopiesTest {

    private static Map<String, Object> settings(Object config) {
        return Map.copyOf(((org.tribuopeft.adapters.method.AdapterMethod) config).getProvenance()
                .getConfiguredParameters().entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toString())));
    }

    @Test
    void loraWithMethodsLeaveTheOriginalUnchanged() {
        LoraConfig original = new LoraConfig(4, 8, 0.0, List.of("query", "value"));
        Map<String, Object> before = settings(original);
        LoraConfig changed = original.withRslora(true).withInit(LoraInit.GAUSSIAN).withBias(BiasMode.ALL)
                .withLayers(List.of(0)).withPatterns(Map.of("query", 2), Map.of("value", 3.0))
                .withTargetRegex(".*query");
        assertEquals(before, settings(original));
        assertNotSame(original, changed);
        assertEquals("true", settings(changed).get("useRslora"));
        assertEquals("GAUSSIAN", settings(changed).get("init"));
        assertEquals(".*query", settings(changed).get("targetRegex"));
    }

    @Test
    void doraWithRsloraReturnsADoraConfig() {
        DoraConfig dora = new DoraConfig(4, 8, 0.0, List.of("query"));
        DoraConfig rs = dora.withRslora(true);
        assertSame(DoraConfig.class, rs.getClass());
        assertSame(DoraConfig.class, dora.withPatterns(Map.of("query", 2), Map.of()).getClass());
        assertEquals("false", settings(dora).get("useRslora"));
        assertEquals("true", settings(rs).get("useRslora"));
    }

    @Test
    void adaLoraWithScheduleLeavesTheOriginalUnchanged() {
        AdaLoraConfig original = new AdaLoraConfig(12, 8, 8, List.of("query"));
        AdaLoraConfig scheduled = original.withSchedule(20, 40, 10).withTotalStep(100);
        assertEquals(0, original.tinit());
        assertEquals(0, original.totalStep());
        assertEquals(20, scheduled.tinit());
        assertEquals(100, scheduled.totalStep());
    }
}
