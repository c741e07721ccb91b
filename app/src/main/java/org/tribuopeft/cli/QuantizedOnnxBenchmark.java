package org.tribuopeft.cli;

import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.export.WeightFormat;
import org.tribuopeft.adapters.export.WeightFormatException;
import org.tribuopeft.adapters.io.OutputLocation;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.OnnxExports;
import org.tribuopeft.plugin.OnnxTextModel;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Quantized ONNX exports side by side: trains one LoRA model (all-MiniLM-L6-v2, the method benchmark's
 * LoRA settings) on an IMDB slice, exports it merged in several weight formats, and prints a Markdown
 * table of file size, held-out accuracy, agreement with and largest score difference from the float32
 * export, and predict throughput through {@link OnnxTextModel} on the CPU (reviews per second, tokenization
 * included, batches of 64, median of interleaved rounds).
 *
 * <p>{@code java -cp app/target/tribuo-peft.jar org.tribuopeft.cli.QuantizedOnnxBenchmark --output DIR
 * [--train N] [--test N] [--epochs N] [--batch-size N] [--seed N] [--max-length N] [--rounds N] [--speed-texts N]
 * [--formats F,F,...]}: accuracy on all {@code --test} reviews, throughput on the first {@code --speed-texts}.
 */
public final class QuantizedOnnxBenchmark {
    /** The formats compared by default: float32 first, as the reference. */
    static final String DEFAULT_FORMATS = "float32,int8:32,int4:32,int4:64,int4:128,int4:32:symmetric,"
            + "int4:32:int8-compute";

    /** Held strongly so that the level set on it stays (Tribuo logs every dataset at INFO). */
    private static final java.util.logging.Logger TRIBUO_LOG = java.util.logging.Logger.getLogger("org.tribuo");

    private QuantizedOnnxBenchmark() {}

    /** Runs the benchmark from the command line (see the class documentation); exits 2 on bad arguments. */
    public static void main(String[] args) throws IOException {
        TRIBUO_LOG.setLevel(java.util.logging.Level.WARNING);
        String[] withCommand = new String[args.length + 1];
        withCommand[0] = "quantized-onnx-benchmark";
        System.arraycopy(args, 0, withCommand, 1, args.length);
        try {
            CliArgs a = CliArgs.parse(withCommand, Set.of("output", "train", "test", "epochs", "batch-size", "seed",
                    "rounds", "formats", "speed-texts", "max-length"));
            List<WeightFormat> formats = new ArrayList<>();
            for (String f : a.get("formats", DEFAULT_FORMATS).split(",")) {
                formats.add(WeightFormat.parse(f));
            }
            if (!formats.get(0).equals(WeightFormat.FLOAT32)) {
                throw new CliException("--formats must start with float32, the reference the others are compared to");
            }
            run(Paths.get(a.require("output")), formats, a.getInt("train", 1000), a.getInt("test", 500),
                    a.getInt("epochs", 2), a.getInt("batch-size", 16), a.getInt("seed", 2024), a.getInt("max-length", 128),
                    a.getInt("rounds", 3), a.getInt("speed-texts", 128), System.out);
        } catch (CliException | WeightFormatException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        }
        System.exit(0);
    }

    static String fileName(WeightFormat f) {
        return "model-" + f.toString().replace(':', '-') + ".onnx";
    }

    static void run(Path dir, List<WeightFormat> formats, int train, int test, int epochs, int batchSize, long seed,
                    int maxLength, int rounds, int speedTexts, PrintStream out) throws IOException {
        for (WeightFormat f : formats) {
            OutputLocation.checkFile(dir.resolve(fileName(f)), false);
        }
        Files.createDirectories(dir);
        MutableDataset<Label> trainData = new MutableDataset<>(new ImdbDataSource(seed, 0, train));
        MutableDataset<Label> testData = new MutableDataset<>(new ImdbDataSource(seed, train, test));
        List<Example<Label>> examples = new ArrayList<>();
        testData.forEach(examples::add);
        int steps = epochs * ((train + batchSize - 1) / batchSize);
        MethodDescriptor lora = MethodBenchmark.method("lora");
        AdapterTrainer<Label> trainer = AdapterTrainer.builder(lora.benchmarkSettings(steps))
                .backbone(BundledModel.ALL_MINILM_L6_V2).maxLength(maxLength).batchSize(batchSize).epochs(epochs).minSteps(0)
                .learningRate(lora.benchmarkLearningRate()).seed(seed).build();
        out.println("[quantized-onnx] training lora on " + train + " reviews ...");
        long t0 = System.nanoTime();
        List<Path> files = new ArrayList<>();
        try (AdapterModel<Label> model = trainer.train(trainData)) {
            out.printf(Locale.ROOT, "[quantized-onnx] trained in %.0f s%n", (System.nanoTime() - t0) / 1e9);
            for (WeightFormat f : formats) {
                Path file = dir.resolve(fileName(f));
                long e0 = System.nanoTime();
                OnnxExports.writeMerged(model, file, f);
                out.printf(Locale.ROOT, "[quantized-onnx] exported %s in %.1f s%n", f, (System.nanoTime() - e0) / 1e9);
                files.add(file);
            }
        }
        int n = formats.size();
        List<OnnxTextModel<Label>> models = new ArrayList<>();
        try {
            for (Path file : files) {
                OnnxTextModel<Label> m = OnnxTextModel.load(file, null, false);
                m.device();
                m.predict(examples.subList(0, Math.min(16, examples.size())));
                models.add(m);
            }
            // accuracy: every held-out review once per format
            List<List<Prediction<Label>>> first = new ArrayList<>();
            for (OnnxTextModel<Label> m : models) {
                first.add(m.predict(examples));
            }
            out.println("[quantized-onnx] held-out predictions done");
            // speed: the first speedTexts reviews, formats interleaved, each round starting one format later so
            // that drift in the machine's load spreads over all formats
            List<Example<Label>> timed = examples.subList(0, Math.min(speedTexts, examples.size()));
            double[][] rates = new double[n][rounds];
            String loadBefore = loadAverage();
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < n; j++) {
                    int i = (j + r) % n;
                    long p0 = System.nanoTime();
                    models.get(i).predict(timed);
                    rates[i][r] = timed.size() / ((System.nanoTime() - p0) / 1e9);
                }
                out.println("[quantized-onnx] round " + (r + 1) + "/" + rounds + " done");
            }
            long f32Bytes = Files.size(files.get(0));
            StringBuilder table = new StringBuilder();
            table.append(String.format(Locale.ROOT, "IMDB, all-MiniLM-L6-v2 + LoRA (q,v r 8), %d train / %d held-out "
                    + "reviews, %d tokens, %d epochs, batch %d, seed %d; predict: %d reviews, median of %d interleaved "
                    + "rounds, %d CPU threads available, 1-minute load average %s before and %s after%n%n", train, test,
                    maxLength, epochs, batchSize, seed, timed.size(), rounds,
                    Runtime.getRuntime().availableProcessors(), loadBefore, loadAverage()));
            table.append("| weight format | file (MB) | size vs float32 | held-out accuracy | same label as float32 "
                    + "| max \\|score − float32 score\\| | predict (reviews/s) | vs float32 speed |\n"
                    + "|---|---|---|---|---|---|---|---|\n");
            double f32Rate = median(rates[0]);
            for (int i = 0; i < n; i++) {
                List<Prediction<Label>> p = first.get(i);
                int correct = 0;
                int agree = 0;
                double maxDiff = 0;
                for (int k = 0; k < p.size(); k++) {
                    String label = p.get(k).getOutput().getLabel();
                    correct += label.equals(examples.get(k).getOutput().getLabel()) ? 1 : 0;
                    agree += label.equals(first.get(0).get(k).getOutput().getLabel()) ? 1 : 0;
                    for (var e : p.get(k).getOutputScores().entrySet()) {
                        maxDiff = Math.max(maxDiff, Math.abs(e.getValue().getScore()
                                - first.get(0).get(k).getOutputScores().get(e.getKey()).getScore()));
                    }
                }
                long bytes = Files.size(files.get(i));
                double rate = median(rates[i]);
                table.append(String.format(Locale.ROOT, "| %s | %.1f | %.3f | %.4f | %d/%d | %.2e | %.1f | %.2f× |%n",
                        formats.get(i), bytes / 1e6, (double) bytes / f32Bytes, (double) correct / p.size(), agree,
                        p.size(), maxDiff, rate, rate / f32Rate));
            }
            out.print(table);
            out.println("rates per round (reviews/s): ");
            for (int i = 0; i < n; i++) {
                out.printf(Locale.ROOT, "  %s %s%n", formats.get(i), Arrays.toString(Arrays.stream(rates[i])
                        .map(x -> Math.round(x * 10) / 10.0).toArray()));
            }
        } finally {
            models.forEach(OnnxTextModel::close);
        }
    }

    /** The 1-minute load average (Linux), so a reader can judge how busy the machine was; "n/a" elsewhere. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
