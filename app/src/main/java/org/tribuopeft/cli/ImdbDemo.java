package org.tribuopeft.cli;

import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.train.ConsoleProgress;
import org.tribuopeft.adapters.train.SentenceEmbedder;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextExamples;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The README's main job: fine-tune the real all-MiniLM-L6-v2 with LoRA on real IMDB reviews and
 * compare it, on the same held-out reviews, with Tribuo logistic regression on the frozen model's
 * mean-pooled embeddings of the same training reviews.
 */
final class ImdbDemo {
    /**
     * What the demo runs.
     *
     * @param train training reviews
     * @param test held-out reviews
     * @param epochs LoRA epochs
     * @param batchSize LoRA batch size
     * @param learningRate LoRA peak learning rate
     * @param maxLength tokens per review
     * @param seed the seed of the review shuffle and of training
     * @param output folder for the LoRA run's outputs, or null
     */
    record Settings(int train, int test, int epochs, int batchSize, double learningRate, int maxLength, long seed,
                    Path output) {}

    /**
     * The two results.
     *
     * @param baseline the frozen-embedding logistic regression's evaluation
     * @param lora the LoRA model's evaluation
     * @param seconds total wall time
     */
    record Outcome(LabelEvaluation baseline, LabelEvaluation lora, double seconds) {}

    private ImdbDemo() {}

    static Outcome run(Settings s, PrintStream out) throws IOException {
        long start = System.nanoTime();
        out.printf(Locale.ROOT, "tribuo-peft demo: LoRA on all-MiniLM-L6-v2 vs a frozen-embedding baseline, IMDB "
                + "(%d train / %d held-out reviews, %d tokens)%n", s.train(), s.test(), s.maxLength());
        ImdbDataSource trainSource = new ImdbDataSource(s.seed(), 0, s.train());
        ImdbDataSource testSource = new ImdbDataSource(s.seed(), s.train(), s.test());
        MutableDataset<Label> train = new MutableDataset<>(trainSource);
        MutableDataset<Label> test = new MutableDataset<>(testSource);

        out.println("[baseline] embedding reviews with the frozen encoder (mean pooling)...");
        LabelEvaluation baseline = baseline(train, test, s, out);
        out.printf(Locale.ROOT, "[baseline] logistic regression on frozen embeddings: accuracy %.4f, macro-F1 %.4f "
                + "(%s so far)%n", baseline.accuracy(), baseline.macroAveragedF1(),
                ConsoleProgress.formatDuration((System.nanoTime() - start) / 1e9));

        LoraConfig lora = new LoraConfig(8, 16, 0.1, List.of("query", "value"));
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(lora).backbone(BundledModel.ALL_MINILM_L6_V2)
                .maxLength(s.maxLength()).batchSize(s.batchSize()).epochs(s.epochs()).minSteps(0)
                .learningRate(s.learningRate()).seed(s.seed()).build();
        out.println("[lora] fine-tuning " + lora + " ...");
        long loraStart = System.nanoTime();
        AdapterModel<Label> model = trainer.train(train);
        double trainSeconds = (System.nanoTime() - loraStart) / 1e9;
        LabelEvaluation loraEval = new LabelEvaluator().evaluate(model, test);
        double total = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "%n%-44s %9s %9s%n", "held-out IMDB reviews (" + s.test() + ")", "accuracy", "macro-F1");
        out.printf(Locale.ROOT, "%-44s %9.4f %9.4f%n", "frozen MiniLM + Tribuo logistic regression", baseline.accuracy(),
                baseline.macroAveragedF1());
        out.printf(Locale.ROOT, "%-44s %9.4f %9.4f%n", "MiniLM + LoRA (r=8, query/value)", loraEval.accuracy(),
                loraEval.macroAveragedF1());
        out.printf(Locale.ROOT, "trainable parameters %d of %d; LoRA training %s; total wall time %s%n",
                model.textModel().trainableParameterCount(), model.textModel().totalParameterCount(),
                ConsoleProgress.formatDuration(trainSeconds), ConsoleProgress.formatDuration(total));
        if (s.output() != null) {
            RunOutputs.write(s.output(), model, loraEval, trainSeconds);
            out.println("wrote " + s.output().toAbsolutePath() + " (model.tribuo, adapter/, provenance.json, metrics.json, report.html)");
        }
        model.close();
        return new Outcome(baseline, loraEval, total);
    }

    private static LabelEvaluation baseline(MutableDataset<Label> train, MutableDataset<Label> test, Settings s,
                                            PrintStream out) throws IOException {
        return frozenEmbeddingBaseline(train, test, s.maxLength());
    }

    /**
     * The frozen-embedding baseline: Tribuo logistic regression on the frozen all-MiniLM-L6-v2's mean-pooled
     * embeddings of the training texts, evaluated on the test texts' embeddings.
     *
     * @param maxLength tokens per text
     */
    static LabelEvaluation frozenEmbeddingBaseline(MutableDataset<Label> train, MutableDataset<Label> test,
                                                   int maxLength) throws IOException {
        try (SentenceEmbedder embedder = new SentenceEmbedder(Backbone.bundled(BundledModel.ALL_MINILM_L6_V2),
                maxLength)) {
            MutableDataset<Label> trainVecs = vectors(train, embedder, "imdb-train-embeddings");
            MutableDataset<Label> testVecs = vectors(test, embedder, "imdb-test-embeddings");
            Model<Label> lr = new LogisticRegressionTrainer().train(trainVecs);
            return new LabelEvaluator().evaluate(lr, testVecs);
        }
    }

    private static MutableDataset<Label> vectors(MutableDataset<Label> data, SentenceEmbedder embedder, String name) {
        List<String> texts = TextExamples.texts(data, "text");
        float[][] vecs = embedder.embed(texts, 64);
        LabelFactory factory = new LabelFactory();
        MutableDataset<Label> out = new MutableDataset<>(new SimpleDataSourceProvenance(name, OffsetDateTime.now(),
                factory), factory);
        String[] names = new String[vecs[0].length];
        for (int j = 0; j < names.length; j++) {
            names[j] = String.format(Locale.ROOT, "e%03d", j);
        }
        List<Example<Label>> examples = new ArrayList<>();
        int i = 0;
        for (Example<Label> e : data) {
            double[] v = new double[names.length];
            for (int j = 0; j < v.length; j++) {
                v[j] = vecs[i][j];
            }
            examples.add(new ArrayExample<>(e.getOutput(), names, v));
            i++;
        }
        out.addAll(examples);
        return out;
    }
}
