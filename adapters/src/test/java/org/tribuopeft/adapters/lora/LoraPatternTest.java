package org.tribuopeft.adapters.lora;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.testing.EngineTestBase;
import org.tribuopeft.adapters.testing.TinyBert;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-module ranks and alphas (PEFT's rank_pattern and alpha_pattern) on LoRA and DoRA layers. */
class LoraPatternTest extends EngineTestBase {
    static final String Q0 = "encoder.layer.0.attention.self.query";
    static final String Q1 = "encoder.layer.1.attention.self.query";
    static final String V0 = "encoder.layer.0.attention.self.value";
    static final String FFN1 = "encoder.layer.1.intermediate.dense";

    private AdaptedEncoder adapt(LoraConfig config) {
        return config.apply(TinyBert.backbone(3).createEncoder(manager), new SplittableRandom(4));
    }

    private static LoraConfig patterned() {
        return new LoraConfig(4, 8, 0.0, List.of("query", "value", "intermediate.dense"))
                .withPatterns(Map.of("layer.0.attention.self.query", 2, "intermediate.dense", 6), Map.of("value", 3.0));
    }

    private static LoraLinear layer(AdaptedEncoder adapted, String module) {
        return (LoraLinear) adapted.layers().get(module);
    }

    @Test
    void patternsGiveEachModuleItsOwnRankAndScaling() {
        AdaptedEncoder adapted = adapt(patterned());
        // TinyBert: hidden 16, FFN 32
        assertArrayEquals(new long[] {2, 16}, layer(adapted, Q0).loraA().getArray().getShape().getShape());
        assertArrayEquals(new long[] {4, 16}, layer(adapted, Q1).loraA().getArray().getShape().getShape());
        assertArrayEquals(new long[] {6, 16}, layer(adapted, FFN1).loraA().getArray().getShape().getShape());
        assertArrayEquals(new long[] {32, 6}, layer(adapted, FFN1).loraB().getArray().getShape().getShape());
        assertEquals(8.0 / 2, layer(adapted, Q0).scaling());
        assertEquals(8.0 / 4, layer(adapted, Q1).scaling());
        assertEquals(3.0 / 4, layer(adapted, V0).scaling());
        assertEquals(8.0 / 6, layer(adapted, FFN1).scaling());
        // per layer: query r·(16+16), value 4·(16+16), intermediate 6·(16+32)
        long expected = (2 + 4) * 32 + 2 * 4 * 32 + 2 * 6 * 48;
        assertEquals(expected, adapted.trainableParameterCount());
    }

    @Test
    void rsLoraScalesEachModuleByItsOwnRank() {
        AdaptedEncoder adapted = adapt(patterned().withRslora(true));
        assertEquals(8.0 / Math.sqrt(2), layer(adapted, Q0).scaling(), 1e-12);
        assertEquals(3.0 / Math.sqrt(4), layer(adapted, V0).scaling(), 1e-12);
    }

    @Test
    void doraLayersFollowThePatternsToo() {
        DoraConfig dora = new DoraConfig(4, 8, 0.0, List.of("query", "value")).withPatterns(Map.of(Q1, 3), Map.of());
        AdaptedEncoder adapted = adapt(dora);
        assertArrayEquals(new long[] {3, 16}, layer(adapted, Q1).loraA().getArray().getShape().getShape());
        assertEquals(8.0 / 3, layer(adapted, Q1).scaling());
    }

    @Test
    void keysMatchAtADotBoundaryAndMayBeAnchoredRegexes() {
        LoraConfig anchored = new LoraConfig(4, 8, 0.0, List.of("query"))
                .withPatterns(Map.of("^encoder\\.layer\\.1\\..*query", 5), Map.of());
        AdaptedEncoder adapted = adapt(anchored);
        assertEquals(4, anchored.rank(Q0));
        assertEquals(5, anchored.rank(Q1));
        assertEquals(5, layer(adapted, Q1).loraA().getArray().getShape().get(0));
        // PEFT matches (.*\.)?(key)$: a fragment of a name segment selects nothing
        LoraConfig fragment = new LoraConfig(4, 8, 0.0, List.of("query")).withPatterns(Map.of("ery", 2), Map.of());
        PropertyException e = assertThrows(PropertyException.class, () -> adapt(fragment));
        assertTrue(e.getMessage().contains("rankPattern") && e.getMessage().contains("'ery'"), e.getMessage());
    }

    @Test
    void keysThatDisagreeOnAModuleAreAnError() {
        LoraConfig clash = new LoraConfig(4, 8, 0.0, List.of("query"))
                .withPatterns(Map.of("query", 2, "layer.0.attention.self.query", 6), Map.of());
        PropertyException e = assertThrows(PropertyException.class, () -> adapt(clash));
        assertTrue(e.getMessage().contains("'query'") && e.getMessage().contains("'layer.0.attention.self.query'")
                && e.getMessage().contains(Q0), e.getMessage());
        LoraConfig agree = new LoraConfig(4, 8, 0.0, List.of("query"))
                .withPatterns(Map.of("query", 2, "layer.0.attention.self.query", 2), Map.of());
        assertEquals(2, layer(adapt(agree), Q0).loraA().getArray().getShape().get(0));
    }

    @Test
    void badPatternValuesAreNamed() {
        LoraConfig base = new LoraConfig(4, 8, 0.0, List.of("query"));
        PropertyException e = assertThrows(PropertyException.class, () -> base.withPatterns(Map.of("query", 0), Map.of()));
        assertTrue(e.getMessage().contains("rankPattern") && e.getMessage().contains("found 0"), e.getMessage());
        e = assertThrows(PropertyException.class, () -> base.withPatterns(Map.of(), Map.of("value", -1.0)));
        assertTrue(e.getMessage().contains("alphaPattern") && e.getMessage().contains("-1.0"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> base.withPatterns(Map.of("query(", 2), Map.of()));
        assertTrue(bad.getMessage().contains("'query('"), bad.getMessage());
        LoraConfig tooBig = new LoraConfig(4, 8, 0.0, List.of("query")).withPatterns(Map.of("query", 17), Map.of());
        e = assertThrows(PropertyException.class, () -> adapt(tooBig));
        assertTrue(e.getMessage().contains("rankPattern") && e.getMessage().contains("17"), e.getMessage());
    }

    @Test
    void patternsLoadFromAnOlcutConfigFile(@TempDir Path tmp) throws Exception {
        Path xml = tmp.resolve("lora.xml");
        Files.writeString(xml, """
                <?xml version="1.0" encoding="UTF-8"?>
                <config>
                    <component name="lora" type="org.tribuopeft.adapters.lora.LoraConfig">
                        <property name="rank" value="4"/>
                        <propertylist name="targetModules"><item>query</item><item>value</item></propertylist>
                        <propertymap name="rankPattern"><entry key="layer.0.attention.self.query" value="2"/></propertymap>
                        <propertymap name="alphaPattern"><entry key="value" value="3.5"/></propertymap>
                    </component>
                </config>
                """);
        LoraConfig loaded = (LoraConfig) new ConfigurationManager(xml.toString()).lookup("lora");
        assertEquals(2, loaded.rank(Q0));
        assertEquals(4, loaded.rank(Q1));
        assertEquals(3.5, loaded.alpha(V0));
        assertEquals(8.0, loaded.alpha(Q0));
    }
}
