package org.tribuopeft.cli;

import ai.djl.ndarray.NDManager;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The QLoRA measurements: the bytes the frozen base keeps resident per kind of tensor for float32, int8, NF4 and NF4
 * with double quantization on both bundled backbones ({@code memory}), and one IMDB LoRA run on a float32 or an NF4 +
 * double-quantized base with accuracy, median step time, peak resident memory and the accuracy after merging into the
 * (re-quantized) base, with the largest change in a predicted probability ({@code imdb}; one run per process, so the
 * peak memory is that run's).
 */
final class QLoraBenchmark {
    private QLoraBenchmark() {}

    /** The storage settings {@code memory} compares, by label; null is float32. */
    static Map<String, BaseQuantization> storages() {
        Map<String, BaseQuantization> m = new LinkedHashMap<>();
        m.put("float32", null);
        m.put("int8", new BaseQuantization("int8", 64, false));
        m.put("nf4", new BaseQuantization("nf4", 64, false));
        m.put("nf4+dq", BaseQuantization.qlora());
        return m;
    }

    /** Prints a Markdown table of resident bytes per tensor kind, per backbone and storage. */
    static void memory(PrintStream out) throws IOException {
        out.println("| backbone | storage | embeddings | layer norms | biases | Linear weights (codes + scales) | "
                + "of which scales | code tables | total | Linear weights vs float32 | total vs float32 |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (BundledModel bm : BundledModel.values()) {
            Backbone b = Backbone.bundled(bm);
            long floatLinear = -1;
            long floatTotal = -1;
            for (Map.Entry<String, BaseQuantization> e : storages().entrySet()) {
                Map<String, Long> bytes;
                try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
                    BertEncoder encoder = b.createEncoder(manager, e.getValue());
                    bytes = encoder.baseResidentBytes();
                }
                long linear = bytes.get("linear-weights");
                long total = bytes.get("embeddings") + bytes.get("layer-norms") + bytes.get("biases") + linear
                        + bytes.get("code-tables");
                if (e.getValue() == null) {
                    floatLinear = linear;
                    floatTotal = total;
                }
                out.printf(Locale.ROOT, "| %s | %s | %,d | %,d | %,d | %,d | %,d | %,d | %,d | %.4f | %.4f |%n",
                        bm.modelName(), e.getKey(), bytes.get("embeddings"), bytes.get("layer-norms"),
                        bytes.get("biases"), linear, bytes.get("linear-scales"), bytes.get("code-tables"), total,
                        (double) linear / floatLinear, (double) total / floatTotal);
            }
        }
    }

    /**
     * Loads one bundled backbone in one storage as training does (quantizing each Linear weight as it is read), builds
     * its frozen encoder, and prints one Markdown row: the bytes the backbone holds in Java memory, the Java heap in
     * use after a full GC, and the process's peak resident memory so far (one storage per process).
     *
     * @param storage "float32" or a label of {@link #storages()}
     */
    static void load(String model, String storage, PrintStream out) throws IOException {
        if (!storages().containsKey(storage)) {
            throw new CliException("--storage must be one of " + storages().keySet() + ", found '" + storage + "'");
        }
        BundledModel bm = BundledModel.byName(model).orElseThrow(() -> new CliException("--backbone must be one of "
                + BundledModel.names() + ", found '" + model + "'"));
        BaseQuantization q = storages().get(storage);
        long t0 = System.nanoTime();
        Backbone b = Backbone.bundled(bm, q);
        long device;
        try (NDManager manager = TorchRuntime.engine().newBaseManager()) {
            BertEncoder encoder = b.createEncoder(manager, q);
            device = encoder.baseResidentBytes().entrySet().stream().filter(e -> !e.getKey().equals("linear-scales"))
                    .mapToLong(Map.Entry::getValue).sum();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.gc();
            Runtime rt = Runtime.getRuntime();
            out.println("| backbone | storage | held by the backbone (bytes) | frozen encoder resident (bytes) | "
                    + "heap in use after GC (MiB) | load + build (s) | peak RSS (MiB) |");
            out.println("|---|---|---|---|---|---|---|");
            out.printf(Locale.ROOT, "| %s | %s | %,d | %,d | %d | %.1f | %d |%n", bm.modelName(), storage,
                    b.weights().heldBytes(), device, (rt.totalMemory() - rt.freeMemory()) >> 20, seconds,
                    MethodBenchmark.peakRssMiB());
        }
    }

    /**
     * Prints how far each storage moves all-MiniLM-L6-v2's sentence embeddings (mean pooling, 128 tokens) from the
     * float32 model's, over held-out IMDB reviews: cosine similarity (mean and lowest) and the largest difference.
     */
    static void fidelity(int reviews, long seed, PrintStream out) throws IOException {
        MutableDataset<Label> data = new MutableDataset<>(new ImdbDataSource(seed, 2000, reviews));
        List<String> texts = new ArrayList<>();
        data.forEach(e -> texts.add(org.tribuopeft.plugin.TextExamples.text(e, "text", 0)));
        Backbone b = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        Map<String, float[][]> embeddings = new LinkedHashMap<>();
        for (Map.Entry<String, BaseQuantization> e : storages().entrySet()) {
            // LoRA starts with B = 0, so the model embeds exactly as its (stored) base
            try (TextModel tm = TextModel.create(b, e.getValue(), new LoraConfig(), org.tribuopeft.adapters.train
                    .TaskKind.SINGLE_LABEL, 2, 128, new java.util.SplittableRandom(seed))) {
                embeddings.put(e.getKey(), tm.embed(texts, 32));
            }
        }
        float[][] reference = embeddings.get("float32");
        out.printf(Locale.ROOT, "all-minilm-l6-v2 sentence embeddings of %d held-out IMDB reviews vs float32%n%n",
                reviews);
        out.println("| storage | mean cosine similarity | lowest cosine similarity | max \\|difference\\| |");
        out.println("|---|---|---|---|");
        for (Map.Entry<String, float[][]> e : embeddings.entrySet()) {
            double sum = 0;
            double lowest = 1;
            double max = 0;
            for (int i = 0; i < reference.length; i++) {
                double dot = 0;
                double na = 0;
                double nb = 0;
                for (int j = 0; j < reference[i].length; j++) {
                    dot += (double) reference[i][j] * e.getValue()[i][j];
                    na += (double) reference[i][j] * reference[i][j];
                    nb += (double) e.getValue()[i][j] * e.getValue()[i][j];
                    max = Math.max(max, Math.abs(reference[i][j] - e.getValue()[i][j]));
                }
                double cos = dot / Math.sqrt(na * nb);
                sum += cos;
                lowest = Math.min(lowest, cos);
            }
            out.printf(Locale.ROOT, "| %s | %.5f | %.5f | %.3e |%n", e.getKey(), sum / reference.length, lowest, max);
        }
    }

    /**
     * Trains LoRA r = 8 (alpha 16, dropout 0.1, query/value) on all-MiniLM-L6-v2 with the demo's settings and prints
     * one Markdown row.
     *
     * @param storage "float32" or a label of {@link #storages()}
     */
    static void imdb(String storage, int train, int test, int epochs, int batchSize, double learningRate, long seed,
                     PrintStream out) throws IOException {
        imdb(storage, train, test, epochs, batchSize, learningRate, seed, null, out);
    }

    /**
     * As {@link #imdb(String, int, int, int, int, double, long, PrintStream)}, saving the trained model to
     * {@code save} (a Tribuo model file) when it is not null, for {@code float32-base} and {@code peft-export}.
     */
    static void imdb(String storage, int train, int test, int epochs, int batchSize, double learningRate, long seed,
                     java.nio.file.Path save, PrintStream out) throws IOException {
        if (!storages().containsKey(storage)) {
            throw new CliException("--storage must be one of " + storages().keySet() + ", found '" + storage + "'");
        }
        BaseQuantization q = storages().get(storage);
        MutableDataset<Label> trainData = new MutableDataset<>(new ImdbDataSource(seed, 0, train));
        MutableDataset<Label> testData = new MutableDataset<>(new ImdbDataSource(seed, train, test));
        LoraConfig lora = new LoraConfig(8, 16, 0.1, List.of("query", "value"));
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(lora).backbone(BundledModel.ALL_MINILM_L6_V2)
                .quantization(q).maxLength(128).batchSize(batchSize).epochs(epochs).minSteps(0)
                .learningRate(learningRate).seed(seed).build();
        out.println("[qlora-benchmark] training " + lora + " on a " + storage + " base ...");
        BenchmarkTraining trained = BenchmarkTraining.trainAndEvaluate(trainer, trainData, testData);
        AdapterModel<Label> model = trained.model();
        LabelEvaluation eval = trained.eval();
        TextModel tm = model.textModel();
        Map<String, Long> resident = tm.adapted().encoder().baseResidentBytes();
        long baseBytes = resident.values().stream().mapToLong(Long::longValue).sum() - resident.get("linear-scales");
        // two passes over the held-out reviews: unmerged, then merged into the (re-quantized) base
        List<Prediction<Label>> unmerged = eval.getPredictions();
        tm.adapted().merge();
        LabelEvaluation mergedEval = new LabelEvaluator().evaluate(model, testData);
        List<Prediction<Label>> merged = mergedEval.getPredictions();
        tm.adapted().unmerge();
        double maxDiff = 0;
        List<Double> diffs = new ArrayList<>();
        for (int i = 0; i < merged.size(); i++) {
            for (Map.Entry<String, Label> e : unmerged.get(i).getOutputScores().entrySet()) {
                double d = Math.abs(e.getValue().getScore() - merged.get(i).getOutputScores().get(e.getKey()).getScore());
                diffs.add(d);
                maxDiff = Math.max(maxDiff, d);
            }
        }
        double meanDiff = diffs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double medianStep = trained.medianStepSeconds();
        out.println("| base storage | held-out accuracy | macro-F1 | median step (s) | train time (s) | "
                + "frozen base resident (bytes) | merged accuracy | mean / max \\|merged − unmerged\\| probability | "
                + "peak RSS (MiB) |");
        out.println("|---|---|---|---|---|---|---|---|---|");
        out.printf(Locale.ROOT, "| %s | %.4f | %.4f | %.3f | %.0f | %,d | %.4f | %.1e / %.1e | %d |%n", storage,
                eval.accuracy(), eval.macroAveragedF1(), medianStep, trained.trainSeconds(), baseBytes, mergedEval.accuracy(),
                meanDiff, maxDiff, MethodBenchmark.peakRssMiB());
        if (save != null) {
            model.serializeToFile(save);
            out.println("[qlora-benchmark] saved the trained model to " + save);
        }
        model.close();
    }
}
