package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java API sets every setting a configuration file can, and a trainer built in code is the trainer the
 * equivalent XML configures: equal provenance and bit-identical weights.
 */
class AdapterTrainerBuilderTest {

    /** Settings the builder sets in pairs or triples, by the builder method that sets them. */
    private static final Map<String, String> GROUPED = Map.of("validationFraction", "validation",
            "earlyStoppingPatience", "validation", "checkpointDir", "checkpoints", "checkpointEverySteps", "checkpoints",
            "checkpointsKept", "checkpoints");

    @Test
    void builderHasAPublicMethodForEveryConfigField() {
        Set<String> builderMethods = Arrays.stream(AdapterTrainerBuilder.class.getMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers())).map(Method::getName).collect(Collectors.toSet());
        Set<String> missing = new TreeSet<>();
        for (Field f : AdapterTrainer.class.getDeclaredFields()) {
            if (f.isAnnotationPresent(Config.class) && !f.getName().equals("method")) {
                if (!builderMethods.contains(GROUPED.getOrDefault(f.getName(), f.getName()))) {
                    missing.add(f.getName());
                }
            }
        }
        assertEquals(Set.of(), missing);
    }

    @Test
    void trainerBuiltInCodeEqualsTheXmlTrainerInProvenanceAndWeights(@TempDir Path tmp) throws Exception {
        Path tiny = TinyBert.folder(21);
        Path xml = Files.writeString(tmp.resolve("trainer.xml"), """
                <config>
                  <component name="trainer" type="org.tribuopeft.plugin.AdapterTrainer">
                    <property name="backbone" value="%s"/>
                    <property name="method" value="lora"/>
                    <property name="pooling" value="CLS"/>
                    <property name="textField" value="text"/>
                    <property name="maxLength" value="20"/>
                    <property name="batchSize" value="6"/>
                    <property name="epochs" value="2"/>
                    <property name="minSteps" value="10"/>
                    <property name="learningRate" value="0.004"/>
                    <property name="weightDecay" value="0.02"/>
                    <property name="warmupRatio" value="0.2"/>
                    <property name="maxGradNorm" value="0.5"/>
                    <property name="validationFraction" value="0.25"/>
                    <property name="earlyStoppingPatience" value="3"/>
                    <property name="evalBatchSize" value="5"/>
                    <property name="seed" value="99"/>
                    <property name="progressSeconds" value="0"/>
                  </component>
                  <component name="lora" type="org.tribuopeft.adapters.lora.LoraConfig">
                    <property name="rank" value="2"/>
                    <property name="alpha" value="4"/>
                    <propertylist name="targetModules"><item>query</item><item>value</item></propertylist>
                  </component>
                </config>
                """.formatted(tiny));
        @SuppressWarnings("unchecked")
        AdapterTrainer<Label> fromXml = (AdapterTrainer<Label>) new ConfigurationManager(xml.toString())
                .lookup("trainer");
        AdapterTrainer<Label> fromCode = AdapterTrainer.builder(new LoraConfig(2, 4, 0.0, List.of("query", "value")))
                .backbone(tiny).pooling(Pooling.CLS).textField("text").maxLength(20).batchSize(6).epochs(2).minSteps(10)
                .learningRate(0.004).weightDecay(0.02).warmupRatio(0.2).maxGradNorm(0.5).validation(0.25, 3)
                .evalBatchSize(5).seed(99).progressSeconds(0).build();
        assertEquals(fromXml.getProvenance(), fromCode.getProvenance());
        MutableDataset<Label> data = TinyDatasets.labels(24, 1);
        try (AdapterModel<Label> a = fromXml.train(data); AdapterModel<Label> b = fromCode.train(data)) {
            assertTrue(AdapterTrainerTest.sameTensors(a, b), "the two trainers must train bit-identical weights");
            assertEquals(a.getProvenance().getTrainerProvenance(), b.getProvenance().getTrainerProvenance());
        }
    }

    @Test
    void withMethodsReturnANewTrainerAndLeaveThisOneUnchanged() {
        AdapterTrainer<Label> original = AdapterTrainerTest.trainer();
        var before = original.getProvenance();
        AdapterTrainer<Label> validating = original.withValidation(0.25, 2);
        AdapterTrainer<Label> quiet = original.withProgressSeconds(3);
        assertNotSame(original, validating);
        assertEquals(before, original.getProvenance());
        assertEquals(0.25, setting(validating, "validationFraction"));
        assertEquals(0.0, setting(original, "validationFraction"));
        assertEquals(3.0, setting(quiet, "progressSeconds"));
        assertEquals(0.0, setting(original, "progressSeconds"));
    }

    private static Object setting(AdapterTrainer<?> trainer, String name) {
        return ((PrimitiveProvenance<?>) trainer.getProvenance().getConfiguredParameters().get(name)).getValue();
    }

    @Test
    void backboneIsTheConfiguredNameNotALoadedModel() {
        assertEquals(AdapterModelSerializationTest.TINY, AdapterTrainerTest.trainer().backbone());
        assertEquals("all-minilm-l6-v2", AdapterTrainer.builder(new LoraConfig()).build().backbone());
    }

    @Test
    void settingsThatNeedNoDataAreCheckedWhenConfigured(@TempDir Path tmp) throws Exception {
        PropertyException missing = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(new LoraConfig())
                .initialAdapter(tmp.resolve("no-such-adapter")).build());
        assertEquals("initialAdapter", missing.getProperty());
        assertEquals("initialAdapter " + tmp.resolve("no-such-adapter") + " is not a folder; give a PEFT adapter "
                + "folder (adapter_config.json, adapter_model.safetensors)", missing.getMsg());
        PropertyException backbone = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(new LoraConfig())
                .backbone(tmp.resolve("no-such-model")).build());
        assertEquals("backbone '" + tmp.resolve("no-such-model") + "' is not a bundled model "
                + BundledModel.names() + " and does not exist as a file or folder", backbone.getMsg());
        PropertyException lr = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(new LoraConfig())
                .learningRate(-1).build());
        assertEquals("learningRate must be positive, or 0 for the method's default, found -1.0", lr.getMsg());
        PropertyException steps = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(new LoraConfig())
                .minSteps(-5).build());
        assertEquals("minSteps", steps.getProperty());
    }
}
