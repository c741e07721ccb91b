package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.Trainer;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.evaluation.Evaluation;
import org.tribuo.impl.ArrayExample;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.OutputLocation;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.EvaluationMetrics;
import org.tribuopeft.plugin.TextPipeline;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The command-line tool: {@code train}, {@code evaluate}, {@code predict} and {@code demo}. Pipelines
 * come from OLCUT configuration files (XML or JSON) and accept OLCUT overrides such as
 * {@code --@trainer.method dora}.
 */
public final class TribuoPeftCli {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Tribuo logs every SGD epoch through java.util.logging, which only keeps weak references to loggers:
     * held here so the quieter level set in main stays in force.
     */
    private static final java.util.logging.Logger TRIBUO_LOG = java.util.logging.Logger.getLogger("org.tribuo");

    private TribuoPeftCli() {}

    /** Runs a command; exits with 0 on success, 2 on a usage error, 1 on failure. */
    public static void main(String[] args) {
        HeapSizing.exitWithParent(System.getenv(HeapSizing.PARENT_ENV));
        if (HeapSizing.shouldRelaunch(System.getProperty("sun.java.command"), System.getProperty("java.class.path"),
                java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments(),
                System.getenv(HeapSizing.SKIP_ENV))) {
            try {
                System.exit(HeapSizing.relaunch(args));
            } catch (IOException e) {
                System.err.println("warning: could not start a JVM with " + HeapSizing.DEFAULT_HEAP + " (" + e.getMessage()
                        + "); running in this one");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                System.exit(130);
            }
        }
        TRIBUO_LOG.setLevel(java.util.logging.Level.WARNING);
        int code = run(args, System.out, System.err);
        System.exit(code);
    }

    /** Runs a command and returns its exit code (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
            out.print(usage());
            return args.length == 0 ? 2 : 0;
        }
        try {
            switch (args[0]) {
                case "train" -> train(CliArgs.parse(args, Set.of("output", "pipeline", "resume"), Set.of("overwrite")),
                        out);
                case "evaluate" -> evaluate(CliArgs.parse(args, Set.of("model", "pipeline")), out);
                case "predict" -> predict(CliArgs.parse(args, Set.of("model", "input", "output"), Set.of("overwrite")),
                        out);
                case "export-peft" -> exportPeft(CliArgs.parse(args, Set.of("model", "output", "key-style"),
                        Set.of("overwrite")), out);
                case "export-onnx" -> exportOnnx(CliArgs.parse(args, Set.of("model", "output", "adapter-output",
                        "weight-format"),
                        Set.of("overwrite")), out);
                case "config-reference" -> out.print(org.tribuopeft.plugin.ConfigurationReference.markdown());
                case "replay" -> replay(CliArgs.parse(args, Set.of("model")), out);
                case "provenance" -> provenance(CliArgs.parse(args, Set.of("model", "file")), out);
                case "benchmark" -> benchmark(CliArgs.parse(args, Set.of("methods", "precisions", "train", "test",
                        "epochs", "batch-size", "seed")), out);
                case "quality" -> quality(args, CliArgs.parse(args, Set.of("datasets", "methods", "seeds", "seed",
                        "train", "test", "epochs", "batch-size", "max-length", "work", "charts", "docs"),
                        Set.of("render-only")), out);
                case "serve" -> serve(CliArgs.parse(args, Set.of("base", "adapters", "host", "port", "cache-bytes", "pin",
                        "token-file", "batching", "max-batch-tokens", "max-wait-ms", "max-queue", "max-texts",
                        "max-request-bytes"), Set.of("help")), out);
                case "qlora-benchmark" -> qloraBenchmark(CliArgs.parse(args, Set.of("part", "storage", "train", "test",
                        "epochs", "batch-size", "learning-rate", "seed", "save", "model", "output", "backbone")), out);
                case "benchmark-compare" -> benchmarkCompare(args, CliArgs.parse(args, Set.of("methods", "rounds",
                        "steps", "warmup", "batch-size", "max-length", "threads", "seed", "python", "jvm-args", "baseline-jvm-args", "baseline-classpath", "work",
                        "output", "docs", "docs-section", "profile-top", "method-config"), Set.of("bf16", "render-only", "profile",
                        "methods-in-turn")), out);
                case "predict-benchmark" -> {
                    CliArgs p = CliArgs.parse(args, Set.of("method", "base-method", "texts", "rounds", "batch-size",
                            "seed"));
                    PredictBenchmark.run(p.get("method", "lora"), p.get("base-method", "full"), p.getInt("texts", 256),
                            p.getInt("rounds", 5), p.getInt("batch-size", 32), p.getInt("seed", 2024), out);
                }
                case "step-benchmark" -> StepBenchmark.run(CliArgs.parse(args, Set.of("method", "data", "json",
                        "batch-size", "threads", "seed", "precision", "profile", "profile-from", "profile-steps", "method-config"),
                        Set.of("lockstep")));
                case "demo" -> demo(CliArgs.parse(args, Set.of("train", "test", "epochs", "batch-size",
                        "learning-rate", "max-length", "seed", "output")), out);
                default -> throw new CliException("unknown command '" + args[0] + "'");
            }
            return 0;
        } catch (CliException e) {
            err.println("error: " + e.getMessage());
            err.print(usage());
            return 2;
        } catch (Exception e) {
            err.println("error: " + e.getMessage());
            if (Boolean.getBoolean("tribuopeft.debug")) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    /** Each registered method with its configuration class and summary, one per line. */
    private static String methodList() {
        StringBuilder sb = new StringBuilder();
        for (MethodDescriptor d : MethodRegistry.all()) {
            sb.append(String.format(Locale.ROOT, "%n  %-9s %s: %s", d.name(), d.configClass().getName(), d.summary()));
        }
        return sb.toString();
    }

    static String usage() {
        return """
                usage: tribuo-peft <command> [options]
                  train     --config FILE [--output DIR [--overwrite]] [--pipeline NAME] [--resume CHECKPOINT_DIR]
                            [--@component.property VALUE ...]
                            train the pipeline's trainer and evaluate on its test data; with --output, write
                            model.tribuo, adapter/, provenance.json, metrics.json and report.html (curves,
                            evaluation, provenance; open it in a browser) into DIR; with --resume,
                            continue an interrupted run from the newest valid checkpoint in CHECKPOINT_DIR
                  evaluate  --model FILE --config FILE [--pipeline NAME]
                            evaluate a saved model on a pipeline's test data
                  predict   --model FILE --input FILE [--output FILE [--overwrite]]
                            predict UTF-8 texts (one per line, or JSON lines with a "text" field); writes JSON
                            lines {"text", "prediction", "scores"} with numeric scores
                  export-peft --model FILE --output DIR [--key-style seq-cls|bare] [--overwrite]
                            write the model's adapter as a Hugging Face PEFT folder (full fine-tunes as a
                            Hugging Face model folder)
                  export-onnx --model FILE --output FILE.onnx [--adapter-output FILE.onnx_adapter]
                            [--weight-format float32|int8[:BLOCK]|int4[:BLOCK][:symmetric][:int8-compute]]
                            [--overwrite]
                            write an ONNX model for ONNX Runtime: merged, or (with --adapter-output) the base
                            with adapter inputs plus this model's adapter file; --weight-format stores the
                            merged encoder's Linear weights as 8- or 4-bit blocks (MatMulNBits, block 16-256,
                            default 32)
                  Outputs never delete files tribuo-peft did not write: an existing file, or a folder holding
                  other files, is refused; --overwrite replaces a file, or writes into such a folder keeping
                  the other files (refused if one of them is where an output goes).
                  config-reference
                            print the reference of every configurable option (docs/configuration.md)
                  replay    --model FILE
                            retrain a model from its provenance and report whether every trained tensor is
                            bit-identical; refuses if the recorded data file or base model changed
                  provenance --model FILE | --file provenance.json
                            print a model's provenance as sorted "path = value" lines
                  benchmark [--methods %1$s] [--precisions float32,bfloat16] [--train N] [--test N]
                            [--epochs N] [--batch-size N] [--seed N]
                            every method on the same IMDB slice: accuracy, step time, throughput, memory; with
                            --precisions, each method once per compute precision (same seed and data)
                  quality   [--datasets imdb,spamassassin] [--methods M,...] [--seeds K] [--seed FIRST] [--train N]
                            [--test N] [--epochs N] [--batch-size N] [--max-length N] [--work DIR]
                            [--charts DIR] [--docs FILE.md] [--render-only]
                            held-out accuracy and macro-F1 over K seeds with 95 %% confidence intervals, for the
                            frozen-embedding baseline and each method (default: every registered one); results in
                            DIR's CSV files (a rerun continues there), PNG charts in --charts, the table in the
                            quality section of --docs; --render-only rebuilds table and charts from DIR
                  serve     --adapters DIR[,DIR...] [--base NAME|FOLDER|FILE.onnx] [--host ADDR] [--port N]
                            [--cache-bytes N] [--pin ID,...] [--token-file FILE] [--batching mixed|per-adapter|merged]
                            [--max-batch-tokens N] [--max-wait-ms N] [--max-queue N] [--max-texts N]
                            [--max-request-bytes N]
                            serve many adapters on one base over HTTP (JSON API, GET /openapi); adapters are the
                            entries of the folders (ID.tribuo, ID/model.tribuo, PEFT folders ID/), loaded on first
                            request; see docs/deployment.md
                  qlora-benchmark [--part memory|fidelity|imdb|load|float32-base|peft-export]
                            [--storage float32|int8|nf4|nf4+dq] [--backbone NAME] [--train N] [--test N] [--epochs N]
                            [--batch-size N] [--learning-rate X] [--seed N] [--save FILE] [--model FILE]
                            [--output DIR]
                            memory: resident bytes of the frozen base per tensor kind, both bundled models;
                            fidelity: cosine of each storage's MiniLM sentence embeddings to float32's;
                            imdb: LoRA r=8 on a float32 or quantized base (QLoRA), accuracy, step time, peak RSS
                            (--save FILE keeps the trained model);
                            load: one --backbone loaded in one storage: bytes held, heap after GC, peak RSS;
                            float32-base: a saved QLoRA model's held-out accuracy on its base and on float32;
                            peft-export: a saved QLoRA model's PEFT folder, NF4 base codes and our outputs on
                            --test reviews under --output, for peft-python/qlora/qlora_check.py
                  benchmark-compare [--methods lora,full,dora,adalora] [--rounds N] [--steps N] [--warmup N]
                            [--batch-size N] [--max-length N] [--threads N] [--python PYTHON] [--bf16]
                            [--jvm-args "FLAGS"] [--baseline-jvm-args "FLAGS"] [--baseline-classpath CP]
                            [--work DIR] [--output FILE.md] [--docs FILE.md [--docs-section NAME]] [--render-only]
                            [--profile [--profile-top N]] [--methods-in-turn] [--method-config LABEL=FILE]
                            training steps of ours and Python PEFT's, each method in its own process, in
                            interleaved rounds: step time, tokens/s, FLOP/s, gradient + optimizer bytes, peak
                            memory and the speed ratio against our row of the same precision; --bf16 adds
                            Python's bf16-autocast step and ours in bfloat16; --baseline-classpath / --baseline-jvm-args add our side
                            again from another build or under other JVM flags (before/after in one run);
                            --docs rewrites the marked section of a Markdown file; --render-only rebuilds
                            the table from the results already in --work, running nothing; --profile runs
                            each side once more with PyTorch's operator profiler on steps after the warm-up
                            and adds a table of self time per operator, ours against Python's (top N, 20);
                            --rounds 0 --profile runs the profile alone; our step processes get the tool's
                            own heap (-Xmx2g, G1 free ratios) unless --jvm-args sets a heap limit;
                            --methods-in-turn runs our float32 processes of all the methods in one group
                            that takes steps in turn and prints each method's step time over full's;
                            --method-config LABEL=FILE[,...] times the one method component of an OLCUT
                            file under LABEL (listed in --methods; no Python side for it)
                  predict-benchmark [--method M] [--base-method M] [--texts N] [--rounds N] [--batch-size N]
                            [--seed N]
                            prediction speed of the base encoder, M unmerged and M merged, in turn in rounds
                  step-benchmark --method M --data FILE --json FILE [--batch-size N] [--threads N] [--seed N]
                            [--precision float32|bfloat16] [--method-config FILE] [--lockstep]
                            one process of benchmark-compare (started by it)
                  demo      [--train N] [--test N] [--epochs N] [--batch-size N] [--learning-rate X]
                            [--max-length N] [--seed N] [--output DIR]
                            LoRA on all-MiniLM-L6-v2 vs a frozen-embedding baseline on real IMDB reviews
                Methods (the trainer's method component, or --methods): %2$s
                """.formatted(String.join(",", MethodRegistry.names()), methodList());
    }

    private static void serve(CliArgs a, PrintStream out) throws Exception {
        if (a.has("help")) {
            out.print(usage());
            return;
        }
        org.tribuopeft.server.ServerSettings s = ServeOptions.settings(a);
        try (org.tribuopeft.server.AdapterServer server = org.tribuopeft.server.AdapterServer.start(s)) {
            out.println("tribuo-peft serve: listening on " + server.url() + " (base " + s.base() + ", adapters from "
                    + s.adapterFolders() + ", " + s.batching().name().toLowerCase(Locale.ROOT) + " batching); "
                    + "GET /openapi describes the API");
            out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(server::close));
            server.join();
        }
    }

    private static <T extends Output<T>> TextPipeline<T> pipeline(CliArgs a) {
        return PipelineConfiguration.load(a.require("config"), a.olcutArgs, a.get("pipeline", "pipeline"));
    }

    private static <T extends Output<T>> void train(CliArgs a, PrintStream out) throws IOException {
        Path dir = a.options.containsKey("output") ? Paths.get(a.require("output")) : null;
        boolean overwrite = a.has("overwrite");
        if (dir != null) {
            // a folder that cannot take the output is reported now, not after hours of training
            RunOutputs.checkLocation(dir, overwrite);
        }
        String resume = a.get("resume", null);
        if (resume != null && !Files.isDirectory(Paths.get(resume))) {
            throw new CliException("--resume " + resume + " is not a folder; give the checkpointDir of the "
                    + "interrupted run");
        }
        TextPipeline<T> pipeline = pipeline(a);
        Trainer<T> trainer = pipeline.trainer();
        if (resume != null) {
            if (!(trainer instanceof AdapterTrainer<T> adapterTrainer)) {
                throw new CliException("--resume needs an AdapterTrainer, but the pipeline's trainer is a "
                        + trainer.getClass().getName());
            }
            trainer = adapterTrainer.withResumeFrom(resume);
            out.println("resuming from the newest valid checkpoint in " + Paths.get(resume).toAbsolutePath());
        }
        out.println("training " + trainer);
        TextPipeline.Datasets<T> data = pipeline.datasets();
        long start = System.nanoTime();
        Model<T> model = trainer.train(data.train());
        double seconds = (System.nanoTime() - start) / 1e9;
        Evaluation<T> evaluation;
        try {
            evaluation = data.train().getOutputFactory().getEvaluator().evaluate(model, data.test());
        } catch (RuntimeException e) {
            throw RunOutputs.failedAfterTraining("evaluation on the test data failed", dir, model, e);
        }
        printEvaluation(evaluation, out);
        out.printf(Locale.ROOT, "training took %.1f s%n", seconds);
        if (dir != null) {
            RunOutputs.writeOrSaveModel(dir, model, evaluation, seconds, overwrite);
            out.println("wrote " + dir.toAbsolutePath());
        }
    }

    private static <T extends Output<T>> void evaluate(CliArgs a, PrintStream out) throws IOException {
        Model<T> model = loadModel(Paths.get(a.require("model")));
        TextPipeline<T> pipeline = pipeline(a);
        var test = pipeline.testDataFor(model);
        Evaluation<T> e = test.getOutputFactory().getEvaluator().evaluate(model, test);
        printEvaluation(e, out);
    }

    private static void printEvaluation(Evaluation<?> e, PrintStream out) {
        out.println("evaluation on " + e.getPredictions().size() + " held-out examples:");
        EvaluationMetrics.of(e).forEach((k, v) -> out.printf(Locale.ROOT, "  %-9s %.4f%n", k, v));
        out.println(e);
    }

    @SuppressWarnings("unchecked")
    static <T extends Output<T>> Model<T> loadModel(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new CliException("model file " + file + " does not exist");
        }
        return (Model<T>) org.tribuopeft.plugin.AdapterModels.load(file);
    }

    private static <T extends Output<T>> void predict(CliArgs a, PrintStream out) throws IOException {
        Path output = a.options.containsKey("output") ? Paths.get(a.require("output")) : null;
        if (output != null) {
            OutputLocation.checkFile(output, a.has("overwrite"));
        }
        Path input = Paths.get(a.require("input"));
        if (!Files.exists(input)) {
            throw new CliException("input file " + input + " does not exist");
        }
        // read before the model loads, so a bad input file is reported at once
        List<String> lines = Utf8Lines.read(input);
        Model<T> model = loadModel(Paths.get(a.require("model")));
        String key = model instanceof AdapterModel<T> am ? am.textField() : "text";
        List<String> texts = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        int lineNo = 0;
        for (String line : lines) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            if (line.trim().startsWith("{")) {
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new InputFileException(input, lineNo, "is not valid JSON (" + e.getOriginalMessage()
                            + "); give one text per line, or one JSON object with a \"" + key + "\" field per line");
                }
                if (!n.hasNonNull(key)) {
                    throw new InputFileException(input, lineNo, "has no \"" + key + "\" field; the model reads "
                            + "its text from \"" + key + "\"");
                }
                texts.add(n.get(key).asText());
            } else {
                texts.add(line);
            }
            lineNumbers.add(lineNo);
        }
        List<Example<T>> examples = new ArrayList<>();
        T unknown = model.getOutputIDInfo().getDomain().iterator().next();
        for (String t : texts) {
            ArrayExample<T> e = new ArrayExample<>(unknown, Map.of(key, t));
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            examples.add(e);
        }
        List<Prediction<T>> predictions = model.predict(examples);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < predictions.size(); i++) {
            String where = "line " + lineNumbers.get(i) + " of " + input;
            sb.append(JSON.writeValueAsString(PredictionJson.of(predictions.get(i), texts.get(i), where))).append('\n');
        }
        if (output == null) {
            out.print(sb);
        } else {
            AtomicFiles.writeString(output, sb.toString());
            out.println("wrote " + predictions.size() + " predictions to " + output);
        }
    }

    private static <T extends Output<T>> void exportPeft(CliArgs a, PrintStream out) throws IOException {
        Path dir = Paths.get(a.require("output"));
        boolean overwrite = a.has("overwrite");
        OutputLocation.checkFolder(dir, List.of(), overwrite);
        Model<T> model = loadModel(Paths.get(a.require("model")));
        if (!(model instanceof AdapterModel<T> am)) {
            throw new CliException(a.require("model") + " is not an AdapterModel");
        }
        String style = a.get("key-style", "seq-cls");
        org.tribuopeft.adapters.peft.PeftKeyStyle keys = switch (style) {
            case "seq-cls" -> org.tribuopeft.adapters.peft.PeftKeyStyle.SEQUENCE_CLASSIFICATION;
            case "bare" -> org.tribuopeft.adapters.peft.PeftKeyStyle.BARE_ENCODER;
            default -> throw new CliException("--key-style must be seq-cls or bare, got '" + style + "'");
        };
        OutputLocation.checkFolder(dir, org.tribuopeft.plugin.AdapterExports.entries(am), overwrite);
        org.tribuopeft.plugin.AdapterExports.write(am, dir, keys, overwrite);
        out.println("wrote " + dir.toAbsolutePath());
    }

    private static <T extends Output<T>> void exportOnnx(CliArgs a, PrintStream out) throws IOException {
        Path onnx = Paths.get(a.require("output"));
        String adapter = a.get("adapter-output", null);
        org.tribuopeft.adapters.export.WeightFormat format;
        try {
            format = org.tribuopeft.adapters.export.WeightFormat.parse(a.get("weight-format", "float32"));
        } catch (org.tribuopeft.adapters.export.WeightFormatException e) {
            throw new CliException("--weight-format: " + e.getMessage());
        }
        if (adapter != null && format.isQuantized()) {
            throw new CliException("--weight-format " + format + " is for merged exports only: the base with adapter "
                    + "inputs keeps float32 weights; drop --adapter-output or --weight-format");
        }
        OutputLocation.checkFile(onnx, a.has("overwrite"));
        if (adapter != null) {
            OutputLocation.checkFile(Paths.get(adapter), a.has("overwrite"));
        }
        Model<T> model = loadModel(Paths.get(a.require("model")));
        if (!(model instanceof AdapterModel<T> am)) {
            throw new CliException(a.require("model") + " is not an AdapterModel");
        }
        if (adapter == null) {
            org.tribuopeft.plugin.OnnxExports.writeMerged(am, onnx, format);
            out.println("wrote " + onnx.toAbsolutePath() + " (merged, " + format + " weights)");
        } else {
            org.tribuopeft.plugin.OnnxExports.writeAdapterBase(onnx, am);
            org.tribuopeft.plugin.OnnxExports.writeAdapter(am, Paths.get(adapter));
            out.println("wrote " + onnx.toAbsolutePath() + " (base with adapter inputs) and " + Paths.get(adapter)
                    .toAbsolutePath());
        }
    }

    private static <T extends Output<T>> void replay(CliArgs a, PrintStream out) throws IOException {
        Model<T> model = loadModel(Paths.get(a.require("model")));
        if (!(model instanceof AdapterModel<T> am)) {
            throw new CliException(a.require("model") + " is a " + model.getClass().getName() + ", not an AdapterModel");
        }
        out.println("replaying " + am.getName() + " from its provenance...");
        var result = org.tribuopeft.plugin.Replays.replay(am);
        out.print(result.report().render());
        if (!result.report().bitIdentical()) {
            throw new IllegalStateException("the replayed model differs from the original");
        }
    }

    private static void provenance(CliArgs a, PrintStream out) throws IOException {
        com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance p;
        if (a.options.containsKey("file")) {
            Path file = Paths.get(a.require("file"));
            if (!Files.exists(file)) {
                throw new CliException("provenance file " + file + " does not exist");
            }
            try {
                p = new com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization(true)
                        .deserializeAndUnmarshal(Files.readString(file));
            } catch (com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException e) {
                throw new CliException(file + " is not OLCUT provenance JSON: " + e.getMessage());
            }
        } else {
            p = loadModel(Paths.get(a.require("model"))).getProvenance();
        }
        org.tribuopeft.provenance.replay.ProvenanceFlattener.flatten(p)
                .forEach((k, v) -> out.println(k + " = " + v));
    }

    private static void benchmark(CliArgs a, PrintStream out) throws IOException {
        List<String> methods = List.of(a.get("methods", String.join(",", MethodRegistry.names())).split(","));
        List<ComputePrecision> precisions = new ArrayList<>();
        for (String p : a.get("precisions", "float32").split(",")) {
            try {
                precisions.add(ComputePrecision.parse(p));
            } catch (IllegalArgumentException e) {
                throw new CliException("--precisions takes float32 and/or bfloat16 (comma-separated), got '" + p
                        + "'");
            }
        }
        MethodBenchmark.run(methods, precisions, a.getInt("train", 1000), a.getInt("test", 500), a.getInt("epochs", 2),
                a.getInt("batch-size", 16), a.getInt("seed", 2024), out);
    }

    private static void quality(String[] args, CliArgs a, PrintStream out) throws IOException {
        List<MethodDescriptor> methods = List.of(a.get("methods", String.join(",", MethodRegistry.names())).split(","))
                .stream().map(MethodBenchmark::method).toList();
        String charts = a.get("charts", null);
        String docs = a.get("docs", null);
        String command = "java -jar app/target/tribuo-peft.jar " + String.join(" ", Arrays.stream(args)
                .filter(x -> !x.equals("--render-only")).toList());
        QualityBenchmark.run(new QualityBenchmark.Settings(List.of(a.get("datasets", "imdb,spamassassin").split(",")),
                methods, a.getInt("seeds", 3), a.getInt("seed", 2024), a.getInt("train", 256), a.getInt("test", 200),
                a.getInt("epochs", 2), a.getInt("batch-size", 16), a.getInt("max-length", 64),
                Paths.get(a.get("work", "target/quality")), charts == null ? null : Paths.get(charts),
                docs == null ? null : Paths.get(docs), command, a.has("render-only")), out);
    }

    private static void qloraBenchmark(CliArgs a, PrintStream out) throws IOException {
        String part = a.get("part", "memory");
        switch (part) {
            case "memory" -> QLoraBenchmark.memory(out);
            case "fidelity" -> QLoraBenchmark.fidelity(a.getInt("test", 200), a.getInt("seed", 2024), out);
            case "imdb" -> QLoraBenchmark.imdb(a.get("storage", "nf4+dq"), a.getInt("train", 2000),
                    a.getInt("test", 1000), a.getInt("epochs", 2), a.getInt("batch-size", 16),
                    a.getDouble("learning-rate", 1e-3), a.getInt("seed", 2024),
                    a.options.containsKey("save") ? Paths.get(a.get("save", "")) : null, out);
            case "load" -> QLoraBenchmark.load(a.get("backbone", "all-minilm-l6-v2"), a.get("storage", "nf4+dq"), out);
            case "float32-base" -> QLoraTransfer.float32Base(requiredPath(a, "model"), a.getInt("train", 2000),
                    a.getInt("test", 1000), a.getInt("seed", 2024), out);
            case "peft-export" -> QLoraTransfer.peftExport(requiredPath(a, "model"), requiredPath(a, "output"),
                    a.getInt("train", 2000), a.getInt("test", 8), a.getInt("seed", 2024), out);
            default -> throw new CliException("--part must be memory, fidelity, imdb, load, float32-base or "
                    + "peft-export, found '" + part + "'");
        }
    }

    private static Path requiredPath(CliArgs a, String option) {
        if (!a.options.containsKey(option)) {
            throw new CliException("--" + option + " is required here");
        }
        return Paths.get(a.get(option, ""));
    }

    private static void benchmarkCompare(String[] args, CliArgs a, PrintStream out) throws IOException {
        List<String> methods = List.of(a.get("methods", "lora,full,dora,adalora").split(","));
        Map<String, Path> methodConfigs = methodConfigs(a.get("method-config", ""), methods);
        methods.stream().filter(m -> !methodConfigs.containsKey(m)).forEach(MethodBenchmark::method);
        String jvm = a.get("jvm-args", "").trim();
        String baseline = a.options.containsKey("baseline-jvm-args") ? a.get("baseline-jvm-args", "").trim() : null;
        int steps = a.getInt("steps", 30);
        int warmup = a.getInt("warmup", 10);
        if (steps <= warmup || warmup < 0) {
            throw new CliException("--steps (" + steps + ") must be more than --warmup (" + warmup + ")");
        }
        int profileTop = a.has("profile") ? a.getInt("profile-top", 20) : 0;
        if (a.has("profile") && profileTop < 1) {
            throw new CliException("--profile needs --profile-top >= 1, got " + profileTop);
        }
        int rounds = a.getInt("rounds", 3);
        if (rounds < 0 || rounds == 0 && profileTop == 0) {
            throw new CliException("--rounds must be positive (0 only with --profile, for the operator profile "
                    + "alone), got " + rounds);
        }
        if (a.has("methods-in-turn") && (a.has("python") || a.has("bf16") || baseline != null
                || a.options.containsKey("baseline-classpath"))) {
            throw new CliException("--methods-in-turn takes the float32 steps of our methods in turn with each other "
                    + "only; run --python, --bf16 and --baseline-* comparisons without it");
        }
        String output = a.get("output", null);
        String docs = a.get("docs", null);
        CompareBenchmark.Settings s = new CompareBenchmark.Settings(methods, rounds, steps, warmup,
                a.getInt("batch-size", 16), a.getInt("max-length", 128), a.getInt("threads", 2), a.getInt("seed", 2024),
                a.get("python", null), a.has("bf16"), jvm.isEmpty() ? List.of() : List.of(jvm.split("\\s+")),
                baseline == null ? null : baseline.isEmpty() ? List.of() : List.of(baseline.split("\\s+")),
                a.get("baseline-classpath", null),
                Paths.get(a.get("work", "target/benchmark-compare")), output == null ? null : Paths.get(output),
                docs == null ? null : Paths.get(docs), a.get("docs-section", ""), "java -jar app/target/tribuo-peft.jar " + String.join(" ",
                Arrays.stream(args).filter(x -> !x.equals("--render-only"))
                        .map(x -> x.contains(" ") ? "\"" + x + "\"" : x).toList()), a.has("render-only"), profileTop,
                a.has("methods-in-turn"), methodConfigs);
        try {
            CompareBenchmark.run(s, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("benchmark-compare was interrupted", e);
        }
    }

    /**
     * The {@code --method-config LABEL=FILE[,LABEL=FILE...]} option of benchmark-compare: each label is a method of
     * {@code --methods} that runs the one method component of FILE instead of a registered method's benchmark settings.
     * A label may not be a registered method's name (the Python side would run that method's own settings under it);
     * each file is loaded here once so that a bad one fails before any process starts.
     */
    static Map<String, Path> methodConfigs(String option, List<String> methods) {
        Map<String, Path> out = new LinkedHashMap<>();
        for (String entry : option.isBlank() ? new String[0] : option.split(",")) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) {
                throw new CliException("--method-config takes LABEL=FILE entries separated by commas, got '" + entry
                        + "'");
            }
            String label = entry.substring(0, eq).trim();
            String file = entry.substring(eq + 1).trim();
            if (MethodRegistry.names().contains(label)) {
                throw new CliException("--method-config: the label '" + label + "' is a registered method's name; "
                        + "give the configured method a label of its own (e.g. " + label + "-mine) and list that in "
                        + "--methods");
            }
            if (!methods.contains(label)) {
                throw new CliException("--method-config: the label '" + label + "' is not among --methods " + methods);
            }
            if (!label.matches("[A-Za-z0-9_.-]+")) {
                throw new CliException("--method-config: the label '" + label + "' may hold only letters, digits, "
                        + "'.', '_' and '-' (it names result files)");
            }
            PipelineConfiguration.loadMethod(file);
            out.put(label, Paths.get(file).toAbsolutePath());
        }
        return out;
    }

    private static void demo(CliArgs a, PrintStream out) throws IOException {
        String output = a.get("output", null);
        ImdbDemo.Settings s = new ImdbDemo.Settings(a.getInt("train", 2000), a.getInt("test", 1000),
                a.getInt("epochs", 2), a.getInt("batch-size", 16), a.getDouble("learning-rate", 1e-3),
                a.getInt("max-length", 128), a.getInt("seed", 2024), output == null ? null : Paths.get(output));
        if (s.train() <= 0 || s.test() <= 0 || s.train() + s.test() > 50_000) {
            throw new CliException("--train and --test must be positive and sum to at most 50000");
        }
        if (s.output() != null) {
            RunOutputs.checkLocation(s.output(), false);
        }
        ImdbDemo.run(s, out);
    }
}
