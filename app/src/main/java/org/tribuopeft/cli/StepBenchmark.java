package org.tribuopeft.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.StepProgress;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One method's training steps in this JVM, for {@link CompareBenchmark}: trains all-MiniLM-L6-v2 with the
 * method's benchmark settings (or the one method of a {@code --method-config} file, reported under {@code --method}
 * as a label) through the real loop ({@link FineTuner}) on the texts the harness wrote, in the
 * compute precision of {@code --precision} (float32 unless given),
 * and writes one JSON file with the wall time of every step, the bytes of gradients and AdamW state, the
 * peak resident memory of the process (native included) and the matmul rate this process reaches.
 */
final class StepBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StepBenchmark() {}

    /** Runs the steps described by the options and writes the result to {@code --json}. */
    static void run(CliArgs a) throws IOException {
        int threads = a.getInt("threads", 2);
        TorchRuntime.configure(threads);
        String label = a.require("method");
        // --method-config: the user's own settings of a method, reported under --method as a label
        AdapterMethod configured = a.has("method-config") ? PipelineConfiguration.loadMethod(a.require("method-config"))
                : null;
        MethodDescriptor descriptor = configured != null ? configured.descriptor() : MethodBenchmark.method(label);
        Path dataFile = Path.of(a.require("data"));
        int batch = a.getInt("batch-size", 16);
        long seed = a.getInt("seed", 2024);
        ComputePrecision precision = precision(a.get("precision", "float32"));
        JsonNode data = JSON.readTree(dataFile.toFile());
        int maxLength = data.path("maxLength").asInt();
        List<LabelledText> train = new ArrayList<>();
        for (int i = 0; i < data.path("texts").size(); i++) {
            train.add(LabelledText.ofClass(data.get("texts").get(i).asText(), data.get("labels").get(i).asInt(), 2));
        }
        if (train.isEmpty() || maxLength <= 0) {
            throw new CliException(dataFile + " holds no texts or no maxLength; it is written by benchmark-compare");
        }
        int steps = train.size() / batch;
        train = train.subList(0, steps * batch);
        OpProfile profile = a.has("profile") ? new OpProfile(Path.of(a.require("profile")),
                a.getInt("profile-from", 4), a.getInt("profile-steps", 4), steps) : null;
        AdapterMethod method = configured != null ? configured : descriptor.benchmarkSettings(steps);
        double lr = descriptor.benchmarkLearningRate();
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        double peakFlops;
        List<Double> stepSeconds = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        long trainable;
        try (TextModel model = TextModel.create(backbone, method, TaskKind.SINGLE_LABEL, 2, maxLength,
                new SplittableRandom(seed))) {
            trainable = model.trainableParameterCount();
            TrainingConfig config = TrainingConfig.builder(seed).epochs(1).batchSize(batch).learningRate(lr)
                    .computePrecision(precision).build();
            Lockstep lockstep = a.has("lockstep") ? new Lockstep() : null;
            if (lockstep != null) {
                lockstep.ready();
                lockstep.awaitTurn();
            }
            // measured in this process's first turn and again in its last, while the others of its group wait:
            // measured after the last step, the processes of a group measured at once; in the first turn alone, the
            // others' JIT compilers may still be busy after loading (rates of 53-72 against 120-160 GFLOP/s)
            double[] peak = {matmulPeak()};
            if (profile != null) {
                profile.beforeFirstStep();
            }
            long[] last = {System.nanoTime()};
            ProgressListener timer = new ProgressListener() {
                @Override
                public void onStep(StepProgress p) {
                    stepSeconds.add((System.nanoTime() - last[0]) / 1e9);
                    losses.add(p.loss());
                    if (profile != null) {
                        profile.afterStep(p.step());
                    }
                    if (lockstep != null) {
                        lockstep.done();
                        if (p.step() < p.totalSteps()) {
                            lockstep.awaitTurn();
                        }
                    }
                    if (p.step() == p.totalSteps() - 1) {
                        peak[0] = Math.max(peak[0], matmulPeak());
                    }
                    last[0] = System.nanoTime();
                }
            };
            new FineTuner(config, timer).fit(model, train, List.of());
            peakFlops = peak[0];
        }
        long peakRss = peakRssBytes();
        ObjectNode out = JSON.createObjectNode();
        out.put("side", "tribuo-peft");
        out.put("method", label);
        out.put("registeredMethod", descriptor.name());
        out.put("precision", jsonPrecision(precision));
        out.put("batch", batch);
        out.put("tokens", maxLength);
        out.put("steps", steps);
        ArrayNode secs = out.putArray("stepSeconds");
        stepSeconds.forEach(secs::add);
        ArrayNode ls = out.putArray("losses");
        losses.forEach(ls::add);
        out.put("trainableValues", trainable);
        // one gradient and AdamW's two moments per trained float32 value
        out.put("gradAndOptimizerBytes", trainable * 4L * 3L);
        out.put("peakRssBytes", peakRss);
        out.put("heapMaxBytes", Runtime.getRuntime().maxMemory());
        out.put("matmulPeakFlops", peakFlops);
        out.put("threads", threads);
        ObjectNode versions = out.putObject("versions");
        versions.put("pytorch", TorchRuntime.pytorchVersion());
        versions.put("djl", TorchRuntime.djlVersion());
        versions.put("java", System.getProperty("java.version"));
        AtomicFiles.writeString(Path.of(a.require("json")), JSON.writeValueAsString(out));
    }

    /** The {@code --precision} option: float32 or bfloat16. */
    static ComputePrecision precision(String value) {
        try {
            return ComputePrecision.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CliException("--precision must be float32 or bfloat16, got '" + value + "'");
        }
    }

    /** The result file's {@code precision}: {@code bf16} or {@code fp32}, the names the comparison table groups by. */
    static String jsonPrecision(ComputePrecision precision) {
        return precision == ComputePrecision.BFLOAT16 ? "bf16" : "fp32";
    }

    /**
     * The child's side of the harness's turn-taking: it says {@code @@ready} when loaded, and before each
     * step waits for a line on standard input, so that the processes of one comparison take their steps
     * in turn and each step sees the same machine load.
     */
    static final class Lockstep {
        private final java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));

        void ready() {
            System.out.println("@@ready");
            System.out.flush();
        }

        void done() {
            System.out.println("@@done");
            System.out.flush();
        }

        void awaitTurn() {
            try {
                if (in.readLine() == null) {
                    throw new IllegalStateException("benchmark-compare closed the turn-taking pipe");
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** VmHWM of this process in bytes (Linux), or -1. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** Best FLOP/s of a [2048, 1536] × [1536, 384] float32 matmul on the engine (the FFN output's shape). */
    static double matmulPeak() {
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(2048, 1536));
            NDArray w = m.randomNormal(new Shape(1536, 384));
            for (int i = 0; i < 3; i++) {
                x.matMul(w).close();
            }
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 10; i++) {
                long t = System.nanoTime();
                NDArray y = x.matMul(w);
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
                y.close();
            }
            return 2.0 * 2048 * 1536 * 384 / best;
        }
    }
}
