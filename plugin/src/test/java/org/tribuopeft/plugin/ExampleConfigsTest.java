package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.json.JsonConfigFactory;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Output;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The configuration files shipped in docs/examples load and train (on the tiny backbone and a few
 * examples, by command-line overrides), so the documented configs cannot rot.
 */
class ExampleConfigsTest {
    static final Path EXAMPLES = Paths.get("..", "docs", "examples");

    static final String[] FAST = {"--@trainer.backbone", TinyBert.folder(21).toString(), "--@trainer.maxLength", "24",
        "--@trainer.epochs", "1", "--@trainer.batchSize", "8", "--@trainer.progressSeconds", "0"};

    @SuppressWarnings("unchecked")
    static <T extends Output<T>> TextPipeline.Result<T> run(Path config, String... overrides) {
        ConfigurationManager.addFileFormatFactory(new JsonConfigFactory());
        List<String> args = new ArrayList<>(List.of("-c", config.toString()));
        args.addAll(List.of(FAST));
        args.addAll(List.of(overrides));
        ConfigurationManager cm = new ConfigurationManager(args.toArray(new String[0]));
        return ((TextPipeline<T>) cm.lookup("pipeline")).run();
    }

    static String methodClass(TextPipeline.Result<?> r) {
        return ((ConfiguredObjectProvenance) r.model().getProvenance().getTrainerProvenance().getConfiguredParameters()
                .get("method")).getClassName();
    }

    @Test
    void imdbXmlPipelineTrainsEveryMethodByOneOverride() {
        Map<String, String> classes = Map.of("lora", "LoraConfig", "dora", "DoraConfig", "adalora", "AdaLoraConfig",
                "vera", "VeraConfig", "relora", "ReLoraConfig", "prompt", "PromptTuningConfig",
                "prefix", "PrefixTuningConfig", "full", "FullFineTuning");
        for (Map.Entry<String, String> e : classes.entrySet()) {
            TextPipeline.Result<?> r = run(EXAMPLES.resolve("imdb-pipeline.xml"), "--@trainer.method", e.getKey(),
                    "--@imdb-train.count", "32", "--@imdb-test.count", "16", "--@adalora.tinit", "0",
                    "--@adalora.tfinal", "0", "--@adalora.deltaT", "1",
                    // the tiny model has 40 positions: 24 tokens leave room for 4 virtual ones, not the example's 20
                    "--@prompt.numVirtualTokens", "4", "--@prefix.numVirtualTokens", "4");
            assertTrue(methodClass(r).endsWith(e.getValue()), e.getKey() + " gave " + methodClass(r));
            assertEquals(16, r.evaluation().getPredictions().size());
            ((AdapterModel<?>) r.model()).close();
        }
    }

    @Test
    void imdbAdaLoraExampleTrainsOnFortyReviewsWithItsScheduleFittedToTheRun() {
        TextPipeline.Result<?> r = run(EXAMPLES.resolve("imdb-pipeline.xml"), "--@trainer.method", "adalora",
                "--@imdb-train.count", "40", "--@imdb-test.count", "16");
        TrainingRunProvenance run = (TrainingRunProvenance) r.model().getProvenance().getInstanceProvenance().getMap()
                .get(RunProvenanceKeys.TRAINING_RUN);
        // 40 reviews in batches of 8: 5 steps an epoch, 10 epochs reach the 50-step minimum; tinit 20 + tfinal 40
        // leave no decay in 50 steps, so both are scaled by 25 / 60
        assertEquals(50, run.stepsRun());
        assertEquals(Map.of("epochs", "10", "learning-rate", "0.001", "adalora-tinit", "8", "adalora-tfinal", "16",
                "adalora-schedule-note", "tinit 20 and tfinal 40 leave no budget decay in this run's 50 steps; scaled "
                        + "to tinit 8 and tfinal 16 so that the decay takes half the run"), run.resolvedSettings());
        assertEquals(16, r.evaluation().getPredictions().size());
        ((AdapterModel<?>) r.model()).close();
    }

    @Test
    void imdbJsonPipelineConfiguresTheSameTrainerAsTheXmlOne() {
        String[] small = {"--@imdb-train.count", "32", "--@imdb-test.count", "16"};
        TextPipeline.Result<?> xml = run(EXAMPLES.resolve("imdb-pipeline.xml"), small);
        TextPipeline.Result<?> json = run(EXAMPLES.resolve("imdb-pipeline.json"), small);
        assertEquals(xml.model().getProvenance().getTrainerProvenance().getConfiguredParameters(),
                json.model().getProvenance().getTrainerProvenance().getConfiguredParameters());
        assertTrue(AdapterTrainerTest.sameTensors(cast(xml), cast(json)), "same config, same seed, same adapter");
        // the IMDB source's provenance (with its tarball checksum) marshals and unmarshals
        org.tribuo.test.Helpers.testProvenanceMarshalling(xml.model().getProvenance());
        cast(xml).close();
        cast(json).close();
    }

    @SuppressWarnings("unchecked")
    static AdapterModel<org.tribuo.classification.Label> cast(TextPipeline.Result<?> r) {
        return (AdapterModel<org.tribuo.classification.Label>) r.model();
    }

    @Test
    void csvClassificationExampleTrainsOnAUserCsv(@TempDir Path tmp) {
        Path csv = CsvTexts.write(tmp.resolve("texts.csv"), 60, 3);
        TextPipeline.Result<?> r = run(EXAMPLES.resolve("csv-classification.xml"), "--@csv.dataPath", csv.toString(),
                "--@trainer.epochs", "2");
        assertEquals(12, r.evaluation().getPredictions().size());
        ((AdapterModel<?>) r.model()).close();
    }

    @Test
    void csvRegressionExampleTrainsARegressor(@TempDir Path tmp) throws Exception {
        StringBuilder sb = new StringBuilder("text,score\n");
        for (LabelledText t : SyntheticTexts.twoClass(40, 5)) {
            sb.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? "4.5" : "1.0").append('\n');
        }
        Path csv = Files.writeString(tmp.resolve("scores.csv"), sb.toString());
        TextPipeline.Result<Regressor> r = run(EXAMPLES.resolve("csv-regression.xml"), "--@csv.dataPath", csv.toString());
        assertTrue(methodClass(r).endsWith("DoraConfig"));
        assertTrue(EvaluationMetrics.of(r.evaluation()).containsKey("rmse"));
        ((AdapterModel<?>) r.model()).close();
    }
}
