package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.io.AtomicFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * Our training step against Hugging Face PEFT's, side by side: every method runs in its own process
 * (a child JVM for ours, {@code benchmarks/python/peft_step.py} for Python), ours and Python's
 * interleaved in rounds so that both see the same machine load, on the same all-MiniLM-L6-v2 weights,
 * the same token ids (every batch exactly batch × max-length tokens), the same method settings and the
 * same AdamW. Prints a Markdown table with step times, tokens/s, FLOP/s against each process's own
 * matmul rate, gradient and optimizer bytes, peak resident memory and the speed ratio of steps taken in turn, and
 * can write it into a marked section of a Markdown file. Without a Python that has torch, transformers
 * and peft it runs our side alone and says so.
 */
final class CompareBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Methods that {@code peft_step.py} knows how to build in PEFT. */
    static final Set<String> PYTHON_METHODS = Set.of("full", "lora", "dora", "adalora");
    static final String DOCS_START = "<!-- benchmark-compare:start -->";
    static final String DOCS_END = "<!-- benchmark-compare:end -->";
    /** Our side, and our side again from a baseline build or under baseline JVM flags (before/after in one run). */
    static final String OURS = "tribuo-peft";
    static final String OURS_BASELINE = "tribuo-peft baseline";

    private CompareBenchmark() {}

    /** What one run is asked to do; every field comes from a command-line option. */
    record Settings(List<String> methods, int rounds, int steps, int warmup, int batch, int maxLength, int threads,
                    long seed, String python, boolean bf16, List<String> jvmArgs, List<String> baselineJvmArgs,
                    String baselineClasspath, Path work, Path output, Path docs, String docsSection,
                    String commandLine, boolean renderOnly, int profileTop, boolean methodsInTurn,
                    Map<String, Path> methodConfigs) {
        /** The profiled window starts after the warm-up steps. */
        int profileFrom() {
            return warmup;
        }

        /** How many steps are profiled: up to 4 after the warm-up, the last step at most. */
        int profileSteps() {
            return Math.min(4, steps - warmup);
        }
    }

    /** One process's result, as read from its JSON file. */
    record Run(String side, String method, String registeredMethod, String precision, int round, int batch,
               int tokens, double[] stepSeconds, double[] losses, long trainableValues, long stateBytes,
               long peakRssBytes, double matmulPeak) {
        /** Median step time after the warm-up steps, in seconds. */
        double medianAfter(int warmup) {
            double[] s = Arrays.copyOfRange(stepSeconds, Math.min(warmup, stepSeconds.length), stepSeconds.length);
            return median(s);
        }
    }

    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static void run(Settings s, PrintStream out) throws IOException, InterruptedException {
        Files.createDirectories(s.work());
        String pythonProblem = s.python() == null ? "no --python given" : pythonProblem(s.python());
        if (pythonProblem != null) {
            out.println("[compare] the Python PEFT side is skipped: " + pythonProblem
                    + " (give --python with an interpreter that has torch, transformers and peft)");
        }
        Path script = Path.of("benchmarks", "python", "peft_step.py");
        if (pythonProblem == null && !Files.isRegularFile(script)) {
            throw new CliException(script.toAbsolutePath() + " does not exist; run benchmark-compare from the "
                    + "repository root");
        }
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        Path data = s.work().resolve("data.json");
        if (!s.renderOnly()) {
            writeData(backbone, s, data);
        }
        Path modelDir = s.work().resolve("all-minilm-l6-v2-hf");
        if (pythonProblem == null && !s.renderOnly() && !Files.isDirectory(modelDir)) {
            backbone.writeHfFolder(modelDir);
        }
        List<Run> runs = new ArrayList<>();
        for (int round = 1; round <= s.rounds(); round++) {
            // with methods in turn, one group per round holds our float32 process of every method (the other sides
            // are refused with that option); otherwise each method has its own group of sides
            for (List<String> groupMethods : s.methodsInTurn() ? List.of(s.methods())
                    : s.methods().stream().map(List::of).toList()) {
                String method = String.join(",", groupMethods);
                List<String[]> jobs = new ArrayList<>();
                for (String m : groupMethods) {
                    jobs.add(new String[] {OURS, "fp32", m});
                }
                if (s.bf16()) {
                    jobs.add(new String[] {OURS, "bf16", method});
                }
                if (s.baselineJvmArgs() != null || s.baselineClasspath() != null) {
                    jobs.add(new String[] {OURS_BASELINE, "fp32", method});
                }
                // a --method-config label is never a registered method's name, so it never gets a Python side here
                if (pythonProblem == null && PYTHON_METHODS.contains(method)) {
                    jobs.add(new String[] {"python-peft", "fp32", method});
                    if (s.bf16()) {
                        jobs.add(new String[] {"python-peft", "bf16", method});
                    }
                }
                List<Child> group = new ArrayList<>();
                for (String[] job : jobs) {
                    String m = job[2];
                    Path json = s.work().resolve(String.format(Locale.ROOT, "r%d-%s-%s-%s.json", round,
                            job[0].replaceAll("\\W+", "-"), job[1], m));
                    Path log = s.work().resolve(json.getFileName().toString().replace(".json", ".log"));
                    List<String> cmd = job[0].equals(OURS) ? javaCommand(s.jvmArgs(), null, s, m, data, json,
                            job[1].equals("bf16"))
                            : job[0].equals(OURS_BASELINE) ? javaCommand(s.baselineJvmArgs() == null ? s.jvmArgs()
                            : s.baselineJvmArgs(), s.baselineClasspath(), s, m, data, json, false)
                            : pythonCommand(s, script, modelDir, m, data, json, job[1].equals("bf16"));
                    group.add(new Child(job[0], job[0] + " " + job[1] + " " + m, cmd, json, log));
                }
                if (s.renderOnly()) {
                    for (Child c : group) {
                        if (Files.isRegularFile(c.json())) {
                            runs.add(read(c.json(), round, c.side()));
                        }
                    }
                    continue;
                }
                out.printf(Locale.ROOT, "[compare] round %d/%d, %s: %s, taking steps in turn ...%n", round, s.rounds(),
                        method, String.join(" / ", group.stream().map(Child::name).toList()));
                long t0 = System.nanoTime();
                String failure = runInTurn(group, s.steps());
                if (failure != null) {
                    out.println("[compare] " + failure);
                    continue;
                }
                for (Child c : group) {
                    Run r = read(c.json(), round, c.side());
                    runs.add(r);
                    out.printf(Locale.ROOT, "[compare]   %s: median step %.3f s, peak RSS %d MiB%n", c.name(),
                            r.medianAfter(s.warmup()), r.peakRssBytes() >> 20);
                }
                out.printf(Locale.ROOT, "[compare]   (%.0f s)%n", (System.nanoTime() - t0) / 1e9);
                // written after every group, so that a run cut short still leaves what it measured
                publish(s, render(s, runs, backbone.config(), pythonProblem), null);
            }
        }
        // with no timed rounds (the operator profile alone) only the command line heads the profile tables
        String table = s.rounds() == 0 ? "`" + s.commandLine() + "`\n" : render(s, runs, backbone.config(), pythonProblem);
        if (s.profileTop() > 0) {
            StringBuilder profiles = new StringBuilder();
            if (s.methodsInTurn()) {
                profiles.append(profileInTurn(s, data, out));
            } else {
                for (String method : s.methods()) {
                    profiles.append(profile(s, method, script, modelDir, data, pythonProblem, out));
                }
            }
            table = table + profiles;
        }
        out.print(table);
        publish(s, table, out);
    }

    /**
     * With methods in turn: one more run of our float32 process of every method with the operator profiler on over
     * the same window of steps, the processes taking their steps in turn (so the machine's drift falls on all of
     * them alike), and per method a table of its operator self time against the reference method's (full
     * fine-tuning when it is among the methods).
     */
    private static String profileInTurn(Settings s, Path data, PrintStream out) throws IOException, InterruptedException {
        int from = s.profileFrom();
        int steps = s.profileSteps();
        String reference = s.methods().contains("full") ? "full" : s.methods().get(0);
        List<Child> group = new ArrayList<>();
        for (String method : s.methods()) {
            List<String> cmd = new ArrayList<>(javaCommand(s.jvmArgs(), null, s, method, data,
                    s.work().resolve("profile-ours-" + method + ".json"), false));
            cmd.addAll(List.of("--profile", trace(s, method).toString(), "--profile-from", Integer.toString(from),
                    "--profile-steps", Integer.toString(steps)));
            group.add(new Child(OURS, OURS + " profile " + method, cmd, s.work().resolve("profile-ours-" + method
                    + ".json"), s.work().resolve("profile-ours-" + method + ".log")));
        }
        if (!s.renderOnly()) {
            for (String method : s.methods()) {
                Files.deleteIfExists(trace(s, method));
            }
            out.printf(Locale.ROOT, "[compare] operator profiles of %s in turn, steps %d–%d ...%n",
                    String.join(", ", s.methods()), from + 1, from + steps);
            String failure = runInTurn(group, s.steps());
            if (failure != null) {
                out.println("[compare] " + failure);
                return "\n**Operator profiles:** not available (" + failure.lines().findFirst().orElse("failed")
                        + ").\n";
            }
        }
        if (!Files.isRegularFile(trace(s, reference))) {
            return "\n**Operator profiles:** not available (" + trace(s, reference) + " was not written).\n";
        }
        OpTrace ref = OpTrace.read(trace(s, reference));
        StringBuilder sb = new StringBuilder();
        for (String method : s.methods()) {
            if (method.equals(reference) || !Files.isRegularFile(trace(s, method))) {
                continue;
            }
            OpTrace ops = OpTrace.read(trace(s, method));
            sb.append(String.format(Locale.ROOT, "%n**Operator profile, %s against %s** (steps %d–%d of one more run of "
                            + "our float32 process of each method with libtorch's operator profiler on, the processes "
                            + "taking their steps in turn; self time is the time inside an operator minus the operators "
                            + "it called, per thread; the %d operators that differ most, then the rest). Operator time "
                            + "per step: %s %.1f ms, %s %.1f ms.%n%n", method, reference, from + 1, from + steps,
                    s.profileTop(), method, ops.topLevelMicros() / steps / 1e3, reference,
                    ref.topLevelMicros() / steps / 1e3));
            sb.append(OpProfileTable.render(ops, method, ref, reference, steps, s.profileTop()));
        }
        return sb.toString();
    }

    private static Path trace(Settings s, String method) {
        return s.work().resolve("profile-ours-" + method + ".trace.json");
    }

    /**
     * One more run of each side for one method with the operator profiler on over a window of steps after the
     * warm-up, taken in turn like the timed runs, and the Markdown table of self time per operator (ours against
     * Python's). Profiled step times are not reported: the profiler slows both sides.
     */
    private static String profile(Settings s, String method, Path script, Path modelDir, Path data,
                                  String pythonProblem, PrintStream out) throws IOException, InterruptedException {
        int from = s.profileFrom();
        int steps = s.profileSteps();
        List<String> window = List.of("--profile-from", Integer.toString(from), "--profile-steps",
                Integer.toString(steps));
        Path oursTrace = s.work().resolve("profile-ours-" + method + ".trace.json");
        Path pyTrace = s.work().resolve("profile-python-" + method + ".trace.json");
        List<Child> group = new ArrayList<>();
        List<String> ours = new ArrayList<>(javaCommand(s.jvmArgs(), null, s, method, data,
                s.work().resolve("profile-ours-" + method + ".json"), false));
        ours.addAll(List.of("--profile", oursTrace.toString()));
        ours.addAll(window);
        group.add(new Child(OURS, OURS + " profile " + method, ours, s.work().resolve("profile-ours-" + method + ".json"),
                s.work().resolve("profile-ours-" + method + ".log")));
        boolean withPython = pythonProblem == null && PYTHON_METHODS.contains(method);
        if (withPython) {
            List<String> py = new ArrayList<>(pythonCommand(s, script, modelDir, method, data,
                    s.work().resolve("profile-python-" + method + ".json"), false));
            py.addAll(List.of("--profile", pyTrace.toString()));
            py.addAll(window);
            group.add(new Child("python-peft", "python-peft profile " + method, py,
                    s.work().resolve("profile-python-" + method + ".json"),
                    s.work().resolve("profile-python-" + method + ".log")));
        }
        if (!s.renderOnly()) {
            Files.deleteIfExists(oursTrace);
            Files.deleteIfExists(pyTrace);
            out.printf(Locale.ROOT, "[compare] operator profile of %s, steps %d–%d: %s ...%n", method, from + 1,
                    from + steps, String.join(" / ", group.stream().map(Child::name).toList()));
            String failure = runInTurn(group, s.steps());
            if (failure != null) {
                out.println("[compare] " + failure);
                return "\n**Operator profile, " + method + ":** not available (" + failure.lines().findFirst()
                        .orElse("failed") + ").\n";
            }
        }
        if (!Files.isRegularFile(oursTrace)) {
            return "\n**Operator profile, " + method + ":** not available (" + oursTrace + " was not written).\n";
        }
        OpTrace oursOps = OpTrace.read(oursTrace);
        OpTrace pyOps = withPython && Files.isRegularFile(pyTrace) ? OpTrace.read(pyTrace) : null;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n**Operator profile, %s** (steps %d–%d of one more run of each side "
                        + "with PyTorch's operator profiler on: libtorch's for ours, torch.profiler for Python; self "
                        + "time is the time inside an operator minus the operators it called, per thread; the %d "
                        + "operators that differ most, then the rest). Operator time per step: ours %.1f ms%s.%n%n",
                method, from + 1, from + steps, s.profileTop(), oursOps.topLevelMicros() / steps / 1e3,
                pyOps == null ? (withPython ? ", Python's trace missing" : ", no Python side")
                        : String.format(Locale.ROOT, ", Python %.1f ms", pyOps.topLevelMicros() / steps / 1e3)));
        sb.append(OpProfileTable.render(oursOps, pyOps, steps, s.profileTop()));
        return sb.toString();
    }

    private static void publish(Settings s, String table, PrintStream out) throws IOException {
        if (s.output() != null) {
            AtomicFiles.writeString(s.output(), table);
            if (out != null) {
                out.println("[compare] wrote " + s.output().toAbsolutePath());
            }
        }
        if (s.docs() != null) {
            replaceSection(s.docs(), s.docsSection(), table);
            if (out != null) {
                out.println("[compare] updated the benchmark-compare section of " + s.docs().toAbsolutePath());
            }
        }
    }

    /** Null when the interpreter imports torch, transformers and peft; otherwise what went wrong. */
    static String pythonProblem(String python) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, transformers, peft").redirectErrorStream(true)
                    .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return python + " did not import torch, transformers and peft within 120 s";
            }
            if (p.exitValue() != 0) {
                String[] lines = text.split("\n");
                return python + " cannot import torch, transformers and peft (" + lines[lines.length - 1] + ")";
            }
            return null;
        } catch (IOException e) {
            return python + " cannot be started (" + e.getMessage() + ")";
        }
    }

    /** Picks reviews that fill max-length tokens, so every batch has the same shape on both sides. */
    private static void writeData(Backbone backbone, Settings s, Path file) throws IOException {
        int needed = s.steps() * s.batch();
        List<ImdbReviews.Review> reviews = ImdbReviews.shuffled(NpmCache.fromEnvironment(), s.seed());
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        try (TextTokenizer tok = backbone.tokenizer(s.maxLength())) {
            for (ImdbReviews.Review r : reviews) {
                if (texts.size() == needed) {
                    break;
                }
                if (tok.countTokens(r.text()) == s.maxLength()) {
                    texts.add(r.text());
                    labels.add(r.positive() ? 1 : 0);
                }
            }
            if (texts.size() < needed) {
                throw new CliException("only " + texts.size() + " IMDB reviews have " + s.maxLength() + " tokens; "
                        + "lower --steps or --max-length");
            }
            TokenBatch ids = tok.encode(texts);
            ObjectNode root = JSON.createObjectNode();
            root.put("maxLength", s.maxLength());
            ArrayNode t = root.putArray("texts");
            texts.forEach(t::add);
            ArrayNode l = root.putArray("labels");
            labels.forEach(l::add);
            ArrayNode idRows = root.putArray("ids");
            for (long[] row : ids.ids()) {
                ArrayNode a = idRows.addArray();
                for (long id : row) {
                    a.add(id);
                }
            }
            AtomicFiles.writeString(file, JSON.writeValueAsString(root));
        }
    }

    private static List<String> javaCommand(List<String> jvmArgs, String classpath, Settings s, String method, Path data,
                                            Path json, boolean bf16) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        // the heap the tool gives itself (HeapSizing), unless --jvm-args sets one: what a user's training run gets
        cmd.addAll(HeapSizing.withDefaultHeap(jvmArgs));
        cmd.add("-cp");
        cmd.add(classpath == null ? System.getProperty("java.class.path") : classpath);
        cmd.add(TribuoPeftCli.class.getName());
        cmd.addAll(List.of("step-benchmark", "--method", method, "--data", data.toString(), "--json", json.toString(),
                "--batch-size", Integer.toString(s.batch()), "--threads", Integer.toString(s.threads()),
                "--seed", Long.toString(s.seed())));
        if (bf16) {
            // only when asked: a baseline build from before --precision existed refuses the option
            cmd.addAll(List.of("--precision", "bfloat16"));
        }
        Path config = s.methodConfigs().get(method);
        if (config != null) {
            cmd.addAll(List.of("--method-config", config.toString()));
        }
        return cmd;
    }

    private static List<String> pythonCommand(Settings s, Path script, Path modelDir, String method, Path data,
                                              Path json, boolean bf16) {
        double lr = MethodBenchmark.method(method).benchmarkLearningRate();
        return List.of(s.python(), script.toString(), "--model-dir", modelDir.toString(), "--data", data.toString(),
                "--method", method, "--batch-size", Integer.toString(s.batch()), "--threads",
                Integer.toString(s.threads()), "--learning-rate", Double.toString(lr), "--seed",
                Long.toString(s.seed()), "--json", json.toString(), "--autocast", bf16 ? "bf16" : "none");
    }

    /** One benchmark process of a comparison group. */
    record Child(String side, String name, List<String> command, Path json, Path log) {}

    /** Processes still running, stopped if this JVM is stopped (Ctrl-C) in the middle of a group. */
    private static final java.util.Set<Process> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    /**
     * Starts every process of a group, waits until all have loaded, then lets them take their steps in
     * turn (one step at a time, the first mover rotating), so that each step of each process sees the same
     * machine load. Returns null when all finished, else what failed (the others are stopped).
     */
    static String runInTurn(List<Child> group, int steps) throws IOException, InterruptedException {
        List<Process> procs = new ArrayList<>();
        List<java.io.BufferedReader> outs = new ArrayList<>();
        List<java.io.Writer> ins = new ArrayList<>();
        try {
            for (Child c : group) {
                List<String> cmd = new ArrayList<>(c.command());
                cmd.add("--lockstep");
                Process p = new ProcessBuilder(cmd).redirectError(c.log().toFile()).start();
                procs.add(p);
                RUNNING.add(p);
                outs.add(new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8)));
                ins.add(new java.io.OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
            }
            for (int i = 0; i < group.size(); i++) {
                if (!awaitMarker(outs.get(i), "@@ready")) {
                    return failed(group.get(i), procs.get(i), "ended before it was ready");
                }
            }
            for (int step = 0; step < steps; step++) {
                for (int k = 0; k < group.size(); k++) {
                    int i = (step + k) % group.size();
                    ins.get(i).write("go\n");
                    ins.get(i).flush();
                    if (!awaitMarker(outs.get(i), "@@done")) {
                        return failed(group.get(i), procs.get(i), "ended during step " + (step + 1));
                    }
                }
            }
            for (int i = 0; i < group.size(); i++) {
                Process p = procs.get(i);
                if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    return failed(group.get(i), p, "did not finish cleanly after its last step");
                }
            }
            return null;
        } finally {
            for (Process p : procs) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
                RUNNING.remove(p);
            }
        }
    }

    private static boolean awaitMarker(java.io.BufferedReader in, String marker) throws IOException {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.equals(marker)) {
                return true;
            }
        }
        return false;
    }

    private static String failed(Child c, Process p, String what) throws IOException, InterruptedException {
        p.waitFor(30, TimeUnit.SECONDS);
        StringBuilder sb = new StringBuilder(c.name() + " " + what + " (exit code "
                + (p.isAlive() ? "none, still running" : Integer.toString(p.exitValue())) + "); its output is in "
                + c.log().toAbsolutePath() + ":");
        tail(c.log(), 15).forEach(l -> sb.append("\n    ").append(l));
        return sb.toString();
    }

    private static List<String> tail(Path log, int lines) throws IOException {
        List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
        return all.subList(Math.max(0, all.size() - lines), all.size());
    }

    static Run read(Path json, int round, String side) throws IOException {
        JsonNode n = JSON.readTree(json.toFile());
        // results written before labelled method configurations existed name the registered method only
        return new Run(side, n.path("method").asText(), n.path("registeredMethod").asText(n.path("method").asText()),
                n.path("precision").asText(), round,
                n.path("batch").asInt(), n.path("tokens").asInt(), doubles(n.path("stepSeconds")),
                doubles(n.path("losses")), n.path("trainableValues").asLong(),
                n.path("gradAndOptimizerBytes").asLong(), n.path("peakRssBytes").asLong(),
                n.path("matmulPeakFlops").asDouble());
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    /**
     * When the run began: the time its token ids were written (the first thing a run does), so that a table
     * rendered again with {@code --render-only} keeps the run's date; now when there is no such file.
     */
    static OffsetDateTime runStarted(Path work) {
        try {
            return OffsetDateTime.ofInstant(Files.getLastModifiedTime(work.resolve("data.json")).toInstant(),
                    ZoneOffset.UTC);
        } catch (IOException absent) {
            return OffsetDateTime.now(ZoneOffset.UTC);
        }
    }

    /** The Markdown report: settings, one row per method and side, and the per-round speed ratios. */
    static String render(Settings s, List<Run> runs, BertConfig config, String pythonProblem) {
        StringBuilder sb = new StringBuilder();
        sb.append("`").append(s.commandLine()).append("`\n\n");
        sb.append(String.format(Locale.ROOT, "Run %s on %s. all-MiniLM-L6-v2, batch %d × %d tokens (every batch full), "
                        + "%d threads per process, %d steps per process, the first %d are warm-up; %d rounds. Each "
                        + "method runs in its own process; %s load together and then take their steps in turn, one "
                        + "step each. Child JVM flags: `%s`%s.%n%n",
                runStarted(s.work()).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
                cpuDescription(), s.batch(), s.maxLength(), s.threads(), s.steps(), s.warmup(), s.rounds(),
                s.methodsInTurn() ? "our float32 processes of all the methods" : "the processes of one method (ours, "
                        + "Python's)",
                String.join(" ", HeapSizing.withDefaultHeap(s.jvmArgs())), baselineDescription(s)));
        if (pythonProblem != null) {
            sb.append("Python PEFT side skipped: ").append(pythonProblem).append(".\n\n");
        }
        sb.append("| method | side | precision | median step (s) | range over rounds (s) | tokens/s | GFLOP/s "
                + "| % of matmul rate | grad + optimizer (MiB) | peak RSS (MiB) | our speed ÷ this row's: median of per-step ratios (10th–90th percentile) |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        Map<String, List<Run>> groups = new LinkedHashMap<>();
        for (String m : s.methods()) {
            for (String key : List.of(OURS + "/fp32", OURS_BASELINE + "/fp32", "python-peft/fp32", OURS + "/bf16",
                    "python-peft/bf16")) {
                for (Run r : runs) {
                    if (r.method().equals(m) && (r.side() + "/" + shortPrecision(r.precision())).equals(key)) {
                        groups.computeIfAbsent(m + "|" + key, k -> new ArrayList<>()).add(r);
                    }
                }
            }
        }
        for (Map.Entry<String, List<Run>> g : groups.entrySet()) {
            List<Run> rs = g.getValue();
            Run first = rs.get(0);
            double[] medians = rs.stream().mapToDouble(r -> r.medianAfter(s.warmup())).toArray();
            double med = median(medians);
            double lo = Arrays.stream(medians).min().orElse(Double.NaN);
            double hi = Arrays.stream(medians).max().orElse(Double.NaN);
            double flops = StepFlops.trainingStep(config, first.batch(), first.tokens(), first.registeredMethod().equals("full"));
            double peak = median(rs.stream().mapToDouble(Run::matmulPeak).toArray());
            long rss = rs.stream().mapToLong(Run::peakRssBytes).max().orElse(-1);
            String ratio = "";
            if (!first.side().equals(OURS)) {
                // against our row of the same precision: Python's bf16 autocast step against our bfloat16 step
                ratio = perStepRatio(rs, runs, shortPrecision(first.precision()), s.warmup());
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.3f–%.3f | %.0f | %.1f | %.0f %% | %.2f | %d | %s |%n",
                    first.method(), first.side(), first.precision(), med, lo, hi, first.batch() * first.tokens() / med,
                    flops / med / 1e9, 100 * flops / med / peak, first.stateBytes() / 1048576.0, rss >> 20, ratio));
        }
        List<String> same = new ArrayList<>();
        for (Run r : runs) {
            if (r.side().equals(OURS_BASELINE)) {
                runs.stream().filter(o -> o.side().equals(OURS) && o.method().equals(r.method()) && o.round() == r.round()
                                && shortPrecision(o.precision()).equals("fp32"))
                        .findFirst().ifPresent(o -> same.add(r.method() + " (round " + r.round() + "): "
                                + (Arrays.equals(o.losses(), r.losses()) ? "identical" : "DIFFERENT")));
            }
        }
        if (!same.isEmpty()) {
            sb.append("\nTraining loss of every step, ours against the baseline row: ").append(String.join("; ", same))
                    .append(".\n");
        }
        List<String> bf16Gain = new ArrayList<>();
        for (String m : s.methods()) {
            List<Run> oursBf16 = runs.stream().filter(r -> r.side().equals(OURS) && r.method().equals(m)
                    && shortPrecision(r.precision()).equals("bf16")).toList();
            String gain = oursBf16.isEmpty() ? "" : perStepRatio(oursBf16, runs, "fp32", s.warmup());
            if (!gain.isEmpty()) {
                bf16Gain.add(m + " " + gain);
            }
        }
        if (!bf16Gain.isEmpty()) {
            sb.append("\nOur bfloat16 step time ÷ our float32 step time, steps taken in turn (median, 10th–90th "
                    + "percentile; below 1 bfloat16 is faster): ").append(String.join("; ", bf16Gain)).append(".\n");
        }
        if (s.methodsInTurn() && s.methods().size() > 1) {
            String reference = s.methods().contains("full") ? "full" : s.methods().get(0);
            List<String> perMethod = new ArrayList<>();
            for (String m : s.methods()) {
                String r = m.equals(reference) ? "" : methodRatio(runs, m, reference, s.warmup());
                if (!r.isEmpty()) {
                    perMethod.add(m + " " + r);
                }
            }
            if (!perMethod.isEmpty()) {
                sb.append("\nEach method's step time ÷ ").append(reference).append("'s, our float32 steps taken in turn "
                        + "(step i of each after the warm-up; median, 10th–90th percentile): ")
                        .append(String.join("; ", perMethod)).append(".\n");
            }
        }
        sb.append(String.format(Locale.ROOT, "%nFLOPs per step from the dense and attention matmuls (%.1f GFLOP with "
                        + "frozen dense weights, %.1f GFLOP when they train); the matmul rate is each process's best "
                        + "[2048, 1536] × [1536, 384] float32 product, measured in its first and its last turn while the "
                        + "others wait. A ratio is this row's step time over our row of the same "
                        + "precision (float32 or bfloat16) for the steps taken in turn (step i of each after the warm-up); "
                        + "above 1 our step is faster; our bfloat16 rows run `step-benchmark --precision bfloat16`. Our "
                        + "grad + optimizer bytes are 3 × 4 bytes per trained value; Python's are measured from its "
                        + "tensors at the last step.%n",
                StepFlops.trainingStep(config, s.batch(), s.maxLength(), false) / 1e9,
                StepFlops.trainingStep(config, s.batch(), s.maxLength(), true) / 1e9));
        return sb.toString();
    }

    /**
     * The median and 10th–90th percentile of {@code rows}' step time over our step time in precision
     * {@code oursPrecision}, step by step within each round after the warm-up; empty when no such row of ours exists.
     */
    static String perStepRatio(List<Run> rows, List<Run> runs, String oursPrecision, int warmup) {
        return quantiles(stepRatios(rows, runs, (row, o) -> o.side().equals(OURS) && o.method().equals(row.method())
                && shortPrecision(o.precision()).equals(oursPrecision), warmup));
    }

    /**
     * The median and 10th–90th percentile of our float32 step time of {@code method} over that of {@code reference},
     * step by step within each round after the warm-up (the two processes took their steps in turn); empty when
     * either is missing.
     */
    static String methodRatio(List<Run> runs, String method, String reference, int warmup) {
        List<Run> rows = runs.stream().filter(r -> r.side().equals(OURS) && r.method().equals(method)
                && shortPrecision(r.precision()).equals("fp32")).toList();
        return quantiles(stepRatios(rows, runs, (row, o) -> o.side().equals(OURS) && o.method().equals(reference)
                && shortPrecision(o.precision()).equals("fp32"), warmup));
    }

    /**
     * Each row's step time over that of the first run of the same round that {@code reference} accepts for it
     * ({@code reference.test(row, run)}), step by step after the warm-up.
     */
    private static List<Double> stepRatios(List<Run> rows, List<Run> runs, BiPredicate<Run, Run> reference,
                                           int warmup) {
        List<Double> perStep = new ArrayList<>();
        for (Run row : rows) {
            runs.stream().filter(o -> o.round() == row.round() && reference.test(row, o)).findFirst()
                    .ifPresent(o -> {
                        int n = Math.min(o.stepSeconds().length, row.stepSeconds().length);
                        for (int i = warmup; i < n; i++) {
                            perStep.add(row.stepSeconds()[i] / o.stepSeconds()[i]);
                        }
                    });
        }
        return perStep;
    }

    /** "median (10th–90th percentile)" of the values to two decimals, or empty for none. */
    private static String quantiles(List<Double> values) {
        double[] q = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (q.length == 0) {
            return "";
        }
        return String.format(Locale.ROOT, "%.2f (%.2f–%.2f)", median(q), q[(int) Math.floor(0.1 * (q.length - 1))],
                q[(int) Math.ceil(0.9 * (q.length - 1))]);
    }

    private static String baselineDescription(Settings s) {
        if (s.baselineJvmArgs() == null && s.baselineClasspath() == null) {
            return "";
        }
        return "; the baseline row is our side again" + (s.baselineClasspath() == null ? ""
                : " from the build on class path `" + s.baselineClasspath() + "`") + (s.baselineJvmArgs() == null ? ""
                : " with JVM flags `" + String.join(" ", HeapSizing.withDefaultHeap(s.baselineJvmArgs())) + "`");
    }

    private static String shortPrecision(String p) {
        return p.startsWith("bf16") ? "bf16" : "fp32";
    }

    private static String cpuDescription() {
        String model = "an unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux: keep the generic description
        }
        return Runtime.getRuntime().availableProcessors() + " cores of " + model;
    }

    /**
     * Replaces the text between the benchmark-compare markers of a Markdown file, atomically; a named section
     * has the markers {@code <!-- benchmark-compare:NAME:start -->} and {@code ...:NAME:end -->}.
     */
    static void replaceSection(Path file, String section, String body) throws IOException {
        String open = section == null || section.isEmpty() ? DOCS_START
                : DOCS_START.replace(":start", ":" + section + ":start");
        String close = section == null || section.isEmpty() ? DOCS_END : DOCS_END.replace(":end", ":" + section + ":end");
        String text = Files.readString(file);
        int start = text.indexOf(open);
        int end = text.indexOf(close);
        if (start < 0 || end < start) {
            throw new CliException(file + " has no " + open + " … " + close + " section; add the two "
                    + "markers where the table should go");
        }
        String updated = text.substring(0, start + open.length()) + "\n" + body + text.substring(end);
        AtomicFiles.writeString(file, updated);
    }
}
