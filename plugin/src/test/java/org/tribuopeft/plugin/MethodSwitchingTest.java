package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One XML pipeline, eight methods chosen by one property: each model records the method it really used. */
class MethodSwitchingTest {

    static String configPath() throws URISyntaxException {
        return Paths.get(MethodSwitchingTest.class.getResource("tiny-pipeline.xml").toURI()).toString();
    }

    @Test
    @SuppressWarnings("unchecked")
    void samePipelineTrainsEachMethodNamedByTheTrainersMethodProperty(@TempDir Path tmp) throws Exception {
        Path csv = CsvTexts.write(tmp.resolve("texts.csv"), 48, 4);
        // hidden 16, 2 layers, query+value: 4 matrices of 16×16
        Map<String, Long> expectedEncoderParams = Map.of(
                "lora", 4L * (4 * 16 + 16 * 4),
                "dora", 4L * (4 * 16 + 16 * 4 + 16),
                "adalora", 4L * (4 * 16 + 4 + 16 * 4),
                "vera", 4L * (16 + 8),
                "relora", 4L * (4 * 16 + 16 * 4),
                "prompt", 4L * 16,
                "prefix", 4L * 2 * 2 * 16,
                "full", TinyBert.weights(21).parameterCount());
        Map<String, String> expectedClass = Map.of(
                "lora", "org.tribuopeft.adapters.lora.LoraConfig",
                "dora", "org.tribuopeft.adapters.dora.DoraConfig",
                "adalora", "org.tribuopeft.adapters.adalora.AdaLoraConfig",
                "vera", "org.tribuopeft.adapters.vera.VeraConfig",
                "relora", "org.tribuopeft.adapters.relora.ReLoraConfig",
                "prompt", "org.tribuopeft.adapters.prompt.PromptTuningConfig",
                "prefix", "org.tribuopeft.adapters.prefix.PrefixTuningConfig",
                "full", "org.tribuopeft.adapters.full.FullFineTuning");
        for (String method : expectedClass.keySet()) {
            ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", configPath(),
                "--@trainer.method", method,
                "--@trainer.backbone", TinyBert.folder(21).toString(),
                "--@csv.dataPath", csv.toString()});
            TextPipeline<Label> pipeline = (TextPipeline<Label>) cm.lookup("pipeline");
            TextPipeline.Result<Label> r = pipeline.run();
            AdapterModel<Label> model = (AdapterModel<Label>) r.model();
            ConfiguredObjectProvenance recorded = (ConfiguredObjectProvenance) model.getProvenance()
                    .getTrainerProvenance().getConfiguredParameters().get("method");
            assertEquals(expectedClass.get(method), recorded.getClassName(), method);
            assertEquals(expectedClass.get(method), model.method().getClass().getName());
            long head = 2L * 16 + 2;
            assertEquals(expectedEncoderParams.get(method) + head, model.textModel().trainableParameterCount(), method);
            // the methods that rewrite base weights carry them in the model (ReLoRA merges at each reset)
            assertEquals(method.equals("relora") || method.equals("full"),
                    model.trainedTensors().containsKey("encoder.layer.0.attention.self.query.weight"), method);
            TrainingRunProvenance run = (TrainingRunProvenance) model.getProvenance().getInstanceProvenance().getMap()
                    .get(AdapterTrainer.TRAINING_RUN_KEY);
            assertEquals(1, run.epochsRun());
            assertTrue(r.evaluation().getPredictions().size() == 12, "25% of 48 held out");
            model.close();
        }
    }
}
