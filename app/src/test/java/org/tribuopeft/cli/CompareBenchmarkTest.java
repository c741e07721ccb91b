package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.HiddenActivation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareBenchmarkTest {
    private static final BertConfig MINILM = new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12,
            HiddenActivation.GELU, 0.1, 0.1);

    @Test
    void stepFlopsOfMiniLmAtBatch16By128() {
        // per layer: dense forward 2·2048·(4·384² + 2·384·1536) = 7,247,757,312; attention forward
        // 2·(2·16·128·128·384) = 402,653,184; backward doubles both; full fine-tuning adds the dense forward again
        assertEquals(6 * 2 * (7_247_757_312.0 + 402_653_184.0), StepFlops.trainingStep(MINILM, 16, 128, false));
        assertEquals(6 * (2 * (7_247_757_312.0 + 402_653_184.0) + 7_247_757_312.0),
                StepFlops.trainingStep(MINILM, 16, 128, true));
    }

    @Test
    void aRenderedTableIsDatedByItsRunNotByTheRendering(@TempDir Path work) throws Exception {
        Files.writeString(work.resolve("data.json"), "{}");
        Instant written = Instant.parse("2026-11-30T08:15:00Z");
        Files.setLastModifiedTime(work.resolve("data.json"), FileTime.from(written));
        assertEquals(written, CompareBenchmark.runStarted(work).toInstant());
        Instant before = Instant.now().minusSeconds(1);
        assertTrue(!CompareBenchmark.runStarted(work.resolve("missing")).toInstant().isBefore(before),
                "without the run's token ids the table is dated now");
    }

    @Test
    void medianOfEvenAndOddCounts() {
        assertEquals(2.0, CompareBenchmark.median(new double[] {3, 1, 2}));
        assertEquals(2.5, CompareBenchmark.median(new double[] {4, 1, 3, 2}));
        assertTrue(Double.isNaN(CompareBenchmark.median(new double[0])));
    }

    @Test
    void runMedianSkipsTheWarmUpSteps() {
        CompareBenchmark.Run r = run("tribuo-peft", "fp32", 1, new double[] {9, 9, 1, 2, 3});
        assertEquals(2.0, r.medianAfter(2));
    }

    @Test
    void tableGivesPerRoundRatiosOfPythonOverOurs() {
        List<CompareBenchmark.Run> runs = List.of(
                run("tribuo-peft", "fp32", 1, new double[] {5, 1.0, 1.0}),
                run("python-peft", "fp32", 1, new double[] {5, 1.5, 1.5}),
                run("python-peft", "fp32", 2, new double[] {5, 0.9, 0.9}),
                run("tribuo-peft", "fp32", 2, new double[] {5, 1.2, 1.2}));
        String table = CompareBenchmark.render(settings(), runs, MINILM, null);
        // ours: rounds 1.0 and 1.2 → median 1.1; Python's ÷ ours per step after warm-up: 1.5, 1.5, 0.75, 0.75
        assertTrue(table.contains("| lora | tribuo-peft | fp32 | 1.100 | 1.000–1.200 | 1862 |"), table);
        assertTrue(table.contains("| lora | python-peft | fp32 | 1.200 | 0.900–1.500 | 1707 |"), table);
        assertTrue(table.contains("| 1.13 (0.75–1.50) |"), table);
        assertTrue(table.startsWith("`tribuo-peft benchmark-compare --methods lora`"), table);
    }

    @Test
    void withMethodsInTurnEachMethodIsComparedWithFullStepByStep() {
        List<CompareBenchmark.Run> runs = List.of(
                methodRun("full", 1, new double[] {9, 1.0, 2.0}),
                methodRun("lora", 1, new double[] {9, 0.7, 1.2}),
                methodRun("dora", 1, new double[] {9, 0.9, 1.8}),
                methodRun("full", 2, new double[] {9, 1.0, 1.0}),
                methodRun("lora", 2, new double[] {9, 0.8, 0.6}));
        CompareBenchmark.Settings inTurn = new CompareBenchmark.Settings(List.of("lora", "full", "dora"), 2, 3, 1, 16,
                128, 2, 2024, null, false, List.of(), null, null, Path.of("target"), null, null, "", "x", false, 0, true, Map.of());
        String table = CompareBenchmark.render(inTurn, runs, MINILM, null);
        // lora ÷ full per step: 0.7, 0.6, 0.8, 0.6 → median 0.65; dora (round 1 only): 0.9, 0.9
        assertTrue(table.contains("Each method's step time ÷ full's, our float32 steps taken in turn (step i of each "
                + "after the warm-up; median, 10th–90th percentile): lora 0.65 (0.60–0.80); dora 0.90 (0.90–0.90)."),
                table);
        assertTrue(table.contains("our float32 processes of all the methods load together"), table);
        assertFalse(CompareBenchmark.render(settings(), runs, MINILM, null).contains("Each method's step time"),
                "only with methods in turn");
    }

    @Test
    void methodsInTurnRefusesTheOtherSides() {
        for (String other : new String[] {"--bf16", "--python=python3", "--baseline-classpath=x.jar"}) {
            String[] opt = other.split("=");
            String[] args = opt.length == 1 ? new String[] {"--methods-in-turn", opt[0]}
                    : new String[] {"--methods-in-turn", opt[0], opt[1]};
            assertTrue(cliError(args).contains("--methods-in-turn takes the float32 steps of our methods in turn"),
                    other);
        }
    }

    private static CompareBenchmark.Run methodRun(String method, int round, double[] secs) {
        return new CompareBenchmark.Run("tribuo-peft", method, method, "fp32", round, 16, 128, secs, new double[] {0.69}, 74_498,
                893_976, 1_862L << 20, 100e9);
    }

    @Test
    void tableSaysWhetherTheBaselineBuildTrainedTheSameLosses() {
        CompareBenchmark.Run ours = run(CompareBenchmark.OURS, "fp32", 1, new double[] {5, 1.0, 1.0});
        CompareBenchmark.Run same = run(CompareBenchmark.OURS_BASELINE, "fp32", 1, new double[] {5, 2.0, 2.0});
        CompareBenchmark.Run other = new CompareBenchmark.Run(CompareBenchmark.OURS_BASELINE, "lora", "lora", "fp32", 2, 16, 128,
                new double[] {5, 2.0, 2.0}, new double[] {0.7}, 74_498, 893_976, 1_862L << 20, 100e9);
        CompareBenchmark.Run ours2 = run(CompareBenchmark.OURS, "fp32", 2, new double[] {5, 1.0, 1.0});
        String table = CompareBenchmark.render(settings(), List.of(ours, same, ours2, other), MINILM, null);
        assertTrue(table.contains("ours against the baseline row: lora (round 1): identical; lora (round 2): DIFFERENT."),
                table);
        // the baseline's steps took 2.0 s against our 1.0 s: ratio 2.00 at every step
        assertTrue(table.contains("| lora | tribuo-peft baseline | fp32 | 2.000 |"), table);
        assertTrue(table.contains("| 2.00 (2.00–2.00) |"), table);
    }

    @Test
    void withBf16EachRowIsComparedWithOurRowOfTheSamePrecision() {
        List<CompareBenchmark.Run> runs = List.of(
                run(CompareBenchmark.OURS, "fp32", 1, new double[] {5, 1.0, 1.0}),
                run(CompareBenchmark.OURS, "bf16", 1, new double[] {5, 0.8, 0.8}),
                run("python-peft", "fp32", 1, new double[] {5, 1.2, 1.2}),
                run("python-peft", "bf16-autocast", 1, new double[] {5, 0.6, 0.6}));
        String table = CompareBenchmark.render(settings(), runs, MINILM, null);
        // Python's float32 step 1.2 s against our float32 1.0 s; its autocast step 0.6 s against our bfloat16 0.8 s
        assertTrue(table.contains("| lora | python-peft | fp32 | 1.200 | 1.200–1.200 | 1707 |"), table);
        assertTrue(table.contains("| 1.20 (1.20–1.20) |"), table);
        assertTrue(table.contains("| lora | python-peft | bf16-autocast | 0.600 | 0.600–0.600 | 3413 |"), table);
        assertTrue(table.contains("| 0.75 (0.75–0.75) |"), table);
        // our bfloat16 row is a reference, like our float32 one: no ratio of its own
        assertTrue(table.contains("| lora | tribuo-peft | bf16 | 0.800 | 0.800–0.800 | 2560 |"), table);
        String oursBf16 = table.lines().filter(l -> l.startsWith("| lora | tribuo-peft | bf16 |")).findFirst()
                .orElseThrow();
        assertTrue(oursBf16.endsWith("|  |"), oursBf16);
        // rows in order: ours fp32, Python fp32, ours bf16, Python bf16
        List<String> rows = table.lines().filter(l -> l.startsWith("| lora |")).toList();
        assertEquals(List.of("tribuo-peft fp32", "python-peft fp32", "tribuo-peft bf16", "python-peft bf16-autocast"),
                rows.stream().map(l -> l.split(" \\| ")[1] + " " + l.split(" \\| ")[2]).toList());
        assertTrue(table.contains("Our bfloat16 step time ÷ our float32 step time, steps taken in turn (median, "
                + "10th–90th percentile; below 1 bfloat16 is faster): lora 0.80 (0.80–0.80)."), table);
    }

    @Test
    void pythonsBf16RowWithoutOurBf16RowHasNoRatio() {
        List<CompareBenchmark.Run> runs = List.of(
                run(CompareBenchmark.OURS, "fp32", 1, new double[] {5, 1.0, 1.0}),
                run("python-peft", "bf16-autocast", 1, new double[] {5, 0.6, 0.6}));
        String table = CompareBenchmark.render(settings(), runs, MINILM, null);
        String py = table.lines().filter(l -> l.startsWith("| lora | python-peft | bf16-autocast |")).findFirst()
                .orElseThrow();
        assertTrue(py.endsWith("|  |"), py);
        assertTrue(!table.contains("Our bfloat16 step time"), table);
    }

    @Test
    void theBaselineLossCheckComparesWithOurFloat32Run() {
        CompareBenchmark.Run oursBf16 = new CompareBenchmark.Run(CompareBenchmark.OURS, "lora", "lora", "bf16", 1, 16, 128,
                new double[] {5, 0.8, 0.8}, new double[] {0.71}, 74_498, 893_976, 1_862L << 20, 100e9);
        List<CompareBenchmark.Run> runs = List.of(oursBf16, run(CompareBenchmark.OURS, "fp32", 1, new double[] {5, 1, 1}),
                run(CompareBenchmark.OURS_BASELINE, "fp32", 1, new double[] {5, 1, 1}));
        String table = CompareBenchmark.render(settings(), runs, MINILM, null);
        assertTrue(table.contains("ours against the baseline row: lora (round 1): identical."), table);
    }

    @Test
    void stepBenchmarkNamesItsPrecisionAsTheTableGroupsIt() {
        assertEquals("bf16", StepBenchmark.jsonPrecision(StepBenchmark.precision("bfloat16")));
        assertEquals("fp32", StepBenchmark.jsonPrecision(StepBenchmark.precision("float32")));
        CliException e = assertThrows(CliException.class, () -> StepBenchmark.precision("fp16"));
        assertEquals("--precision must be float32 or bfloat16, got 'fp16'", e.getMessage());
    }

    @Test
    void replaceSectionKeepsTheTextAroundTheMarkers(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("b.md");
        Files.writeString(md, "# B\n" + CompareBenchmark.DOCS_START + "\nold\n" + CompareBenchmark.DOCS_END + "\ntail\n");
        CompareBenchmark.replaceSection(md, "", "new table\n");
        assertEquals("# B\n" + CompareBenchmark.DOCS_START + "\nnew table\n" + CompareBenchmark.DOCS_END + "\ntail\n",
                Files.readString(md));
    }

    @Test
    void namedSectionHasItsOwnMarkers(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("b.md");
        String quiet = "<!-- benchmark-compare:quiet:start -->\nold\n<!-- benchmark-compare:quiet:end -->\n";
        Files.writeString(md, CompareBenchmark.DOCS_START + "\nkeep\n" + CompareBenchmark.DOCS_END + "\n" + quiet);
        CompareBenchmark.replaceSection(md, "quiet", "new\n");
        assertEquals(CompareBenchmark.DOCS_START + "\nkeep\n" + CompareBenchmark.DOCS_END + "\n"
                + "<!-- benchmark-compare:quiet:start -->\nnew\n<!-- benchmark-compare:quiet:end -->\n", Files.readString(md));
    }

    @Test
    void replaceSectionRefusesAFileWithoutMarkers(@TempDir Path dir) throws IOException {
        Path md = dir.resolve("b.md");
        Files.writeString(md, "# B\n");
        CliException e = assertThrows(CliException.class, () -> CompareBenchmark.replaceSection(md, "", "x"));
        assertTrue(e.getMessage().contains("b.md has no " + CompareBenchmark.DOCS_START), e.getMessage());
    }

    @Test
    void profileSettingsAreCheckedBeforeAnythingRuns() {
        assertTrue(cliError("--rounds", "0").contains("--rounds must be positive (0 only with --profile"));
        assertTrue(cliError("--profile", "--steps", "4", "--warmup", "4")
                .contains("--steps (4) must be more than --warmup (4)"));
        assertTrue(cliError("--profile", "--profile-top", "0").contains("--profile-top >= 1, got 0"));
    }

    private static final String ONE_LORA = """
            <?xml version="1.0" encoding="UTF-8"?>
            <config>
              <component name="floor" type="org.tribuopeft.adapters.lora.LoraConfig">
                <property name="rank" value="1"/>
                <propertylist name="targetModules"><item>query</item></propertylist>
                <propertylist name="layersToTransform"><item>0</item></propertylist>
              </component>
            %s</config>
            """;

    @Test
    void aMethodConfigIsLoadedUnderItsLabelAndCheckedBeforeAnythingRuns(@TempDir Path dir) throws IOException {
        Path one = Files.writeString(dir.resolve("floor.xml"), ONE_LORA.formatted(""));
        Map<String, Path> configs = TribuoPeftCli.methodConfigs("floor=" + one, List.of("full", "floor"));
        assertEquals(Map.of("floor", one.toAbsolutePath()), configs);
        assertEquals("lora", PipelineConfiguration.loadMethod(one.toString()).descriptor().name());

        assertTrue(cliError("--methods", "lora", "--method-config", "lora=" + one)
                .contains("the label 'lora' is a registered method's name"));
        assertTrue(cliError("--methods", "full", "--method-config", "floor=" + one)
                .contains("the label 'floor' is not among --methods [full]"));
        assertTrue(cliError("--methods", "full,floor", "--method-config", "floor")
                .contains("--method-config takes LABEL=FILE entries separated by commas, got 'floor'"));
        assertTrue(cliError("--methods", "full,floor", "--method-config", "floor=" + dir.resolve("none.xml"))
                .contains("none.xml does not exist"));
        Path two = Files.writeString(dir.resolve("two.xml"), ONE_LORA.formatted(
                "  <component name=\"other\" type=\"org.tribuopeft.adapters.full.FullFineTuning\"/>\n"));
        assertTrue(cliError("--methods", "full,floor", "--method-config", "floor=" + two)
                .contains("must define exactly one method component"));
    }

    @Test
    void theBenchmarkMethodConfigsInTheRepositoryLoadAsTheMethodsTheirCommentsDescribe() {
        // benchmarks/configs is what docs/benchmarks.md's floor measurement runs: a LoRA of rank 1 on layer 0's query
        // without dropout, and the benchmark LoRA (r 8 on query and value) without dropout
        Path configs = Path.of("..", "benchmarks", "configs");
        org.tribuopeft.adapters.lora.LoraConfig floor = (org.tribuopeft.adapters.lora.LoraConfig)
                PipelineConfiguration.loadMethod(configs.resolve("lora-floor.xml").toString());
        assertEquals(1, floor.rank());
        assertEquals(0.0, floor.dropout());
        assertEquals(List.of("query"), floor.targetModules());
        assertEquals(List.of(0), floor.layersToTransform());
        org.tribuopeft.adapters.lora.LoraConfig noDropout = (org.tribuopeft.adapters.lora.LoraConfig)
                PipelineConfiguration.loadMethod(configs.resolve("lora-no-dropout.xml").toString());
        assertEquals(8, noDropout.rank());
        assertEquals(0.0, noDropout.dropout());
        assertEquals(List.of("query", "value"), noDropout.targetModules());
        assertEquals(List.of(), noDropout.layersToTransform());
    }

    @Test
    void aLabelledMethodIsCountedInFlopsByTheMethodItRegistersAs() {
        CompareBenchmark.Settings s = new CompareBenchmark.Settings(List.of("floor", "full-mine"), 1, 3, 1, 16, 128, 2,
                2024, null, false, List.of(), null, null, Path.of("target"), null, null, "", "x", false, 0, false,
                Map.of());
        List<CompareBenchmark.Run> runs = List.of(
                new CompareBenchmark.Run(CompareBenchmark.OURS, "floor", "lora", "fp32", 1, 16, 128,
                        new double[] {9, 1.0, 1.0}, new double[] {0.7}, 1, 12, 1L << 30, 1e12),
                new CompareBenchmark.Run(CompareBenchmark.OURS, "full-mine", "full", "fp32", 1, 16, 128,
                        new double[] {9, 1.0, 1.0}, new double[] {0.7}, 1, 12, 1L << 30, 1e12));
        String table = CompareBenchmark.render(s, runs, MINILM, null);
        // one step a second: GFLOP/s is the step's GFLOP, frozen dense weights for LoRA, trained for full
        assertTrue(table.contains("| floor | tribuo-peft | fp32 | 1.000 | 1.000–1.000 | 2048 | 91.8 |"), table);
        assertTrue(table.contains("| full-mine | tribuo-peft | fp32 | 1.000 | 1.000–1.000 | 2048 | 135.3 |"), table);
    }

    @Test
    void aResultWithoutItsRegisteredMethodIsTheMethodItNames(@TempDir Path dir) throws IOException {
        Path json = Files.writeString(dir.resolve("r.json"), "{\"method\": \"full\", \"precision\": \"fp32\", "
                + "\"stepSeconds\": [1.0], \"losses\": [0.7]}");
        assertEquals("full", CompareBenchmark.read(json, 1, CompareBenchmark.OURS).registeredMethod());
    }

    private static String cliError(String... options) {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        String[] args = new String[options.length + 1];
        args[0] = "benchmark-compare";
        System.arraycopy(options, 0, args, 1, options.length);
        int code = TribuoPeftCli.run(args, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(2, code);
        return err.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static CompareBenchmark.Run run(String side, String precision, int round, double[] secs) {
        return new CompareBenchmark.Run(side, "lora", "lora", precision, round, 16, 128, secs, new double[] {0.69}, 74_498, 893_976,
                1_862L << 20, 100e9);
    }

    private static CompareBenchmark.Settings settings() {
        return new CompareBenchmark.Settings(List.of("lora"), 2, 3, 1, 16, 128, 2, 2024, null, false, List.of(), null, null,
                Path.of("target"), null, null, "", "tribuo-peft benchmark-compare --methods lora", false, 0, false, Map.of());
    }
}
