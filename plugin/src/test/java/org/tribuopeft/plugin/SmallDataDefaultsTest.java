package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.plugin.data.TextCsvDataSource;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The defaults train small data: 40 short sentences in three topics (sports, cooking, weather) and nothing set but
 * the backbone and the method reach at least 0.9 accuracy on 24 held-out sentences with the real all-MiniLM-L6-v2,
 * because the run is raised to the minimum step count at the method's learning rate.
 */
class SmallDataDefaultsTest {

    static Path topics(String file) throws Exception {
        return Paths.get(SmallDataDefaultsTest.class.getResource("/org/tribuopeft/plugin/topics/" + file).toURI());
    }

    static MutableDataset<Label> load(String file) throws Exception {
        return new MutableDataset<>(new TextCsvDataSource<>(topics(file), new LabelFactory(), "text", "label"));
    }

    @Test
    void defaultsReachNinetyPercentOnFortyExamplesInThreeClasses() throws Exception {
        MutableDataset<Label> train = load("train.csv");
        MutableDataset<Label> test = load("test.csv");
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(new LoraConfig())
                .backbone(BundledModel.ALL_MINILM_L6_V2).build();
        long start = System.nanoTime();
        try (AdapterModel<Label> model = trainer.train(train)) {
            LabelEvaluation evaluation = new LabelEvaluator().evaluate(model, test);
            System.out.printf("small-data defaults: accuracy %.4f on %d held-out, %.1f s%n", evaluation.accuracy(),
                    test.size(), (System.nanoTime() - start) / 1e9);
            assertTrue(evaluation.accuracy() >= 0.9, "held-out accuracy " + evaluation.accuracy());
            TrainingRunProvenance run = (TrainingRunProvenance) model.getProvenance().getInstanceProvenance().getMap()
                    .get(RunProvenanceKeys.TRAINING_RUN);
            // 40 examples in batches of 16 are 3 steps an epoch: 17 epochs reach the 50-step minimum
            assertEquals(Map.of("epochs", "17", "learning-rate", "0.002"), run.resolvedSettings());
            assertEquals(51, run.stepsRun());
        }
    }
}
