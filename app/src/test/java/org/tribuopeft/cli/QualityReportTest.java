package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.method.MethodRegistry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quality benchmark's statistics, files and rendering, without training anything. */
class QualityReportTest {
    @Test
    void intervalIsTheStudentTHalfWidthOverSeeds() {
        QualityReport.Interval i = QualityReport.Interval.of(List.of(0.8, 0.9, 1.0));
        assertEquals(0.9, i.mean(), 1e-12);
        // t(0.975, 2 degrees of freedom) = 4.302653, s = 0.1, n = 3
        assertEquals(4.302653 * 0.1 / Math.sqrt(3), i.halfWidth(), 1e-6);
        assertEquals("0.9000 ± 0.2484", i.format());
    }

    @Test
    void differencesArePairedBySeedAgainstTheBaselineAndTheFirstMethod() {
        QualityResults r = new QualityResults();
        double[][] acc = {{0.70, 0.80, 0.78}, {0.72, 0.83, 0.80}, {0.74, 0.83, 0.85}};
        for (int seed = 0; seed < 3; seed++) {
            r.runs.add(new QualityResults.Run("imdb", QualityBenchmark.BASELINE, seed, acc[seed][0], 0, 0, 0, 0, 0));
            r.runs.add(new QualityResults.Run("imdb", "lora", seed, acc[seed][1], 0, 0, 0, 0, 0));
            r.runs.add(new QualityResults.Run("imdb", "adalora", seed, acc[seed][2], 0, 0, 0, 0, 0));
        }
        r.runs.add(new QualityResults.Run("imdb", "dora", 0, 0.9, 0, 0, 0, 0, 0)); // one seed: no interval, no row
        String md = QualityReport.pairedDifferences(List.of("imdb"), r,
                List.of(QualityBenchmark.BASELINE, "lora", "adalora", "dora"));
        assertTrue(md.contains("| dataset | method | − frozen-embedding | − lora |"), md);
        // lora − baseline: 0.10, 0.11, 0.09 (s = 0.01); t(0.975, 2) = 4.302653
        assertTrue(md.contains("| imdb | lora | +0.1000 ± 0.0248 (3) | |"), md);
        // adalora − baseline: 0.08, 0.08, 0.11; adalora − lora: −0.02, −0.03, +0.02 (s = 0.026458)
        assertTrue(md.contains("| imdb | adalora | +0.0900 ± 0.0430 (3) | -0.0100 ± 0.0657 (3) |"), md);
        assertTrue(!md.contains("| imdb | dora |"), md);
        assertEquals("", QualityReport.pairedDifferences(List.of("imdb"), new QualityResults(),
                List.of(QualityBenchmark.BASELINE, "lora")));
    }

    @Test
    void meanLossesAverageSeedsStepByStepAndStopWhereASeedStops() {
        QualityResults r = new QualityResults();
        r.losses.add(new QualityResults.Loss("imdb", "lora", 1, 1, 1.0));
        r.losses.add(new QualityResults.Loss("imdb", "lora", 1, 2, 0.5));
        r.losses.add(new QualityResults.Loss("imdb", "lora", 2, 1, 3.0));
        r.losses.add(new QualityResults.Loss("imdb", "dora", 2, 1, 9.0));
        assertEquals(List.of(2.0), QualityReport.meanLosses(r, "imdb", "lora"));
    }

    @Test
    void resultsSurviveTheirCsvFilesAndTheTableAndChartsAreRenderedFromThem(@TempDir Path tmp) throws Exception {
        QualityResults r = new QualityResults();
        for (long seed = 1; seed <= 2; seed++) {
            r.runs.add(new QualityResults.Run("imdb", QualityBenchmark.BASELINE, seed, 0.7, 0.69, 0, Double.NaN, 3, 900));
            r.runs.add(new QualityResults.Run("imdb", "adalora", seed, 0.6 + seed / 10.0, 0.6, 1234, 0.5, 10, 1000));
            for (int step = 1; step <= 3; step++) {
                r.losses.add(new QualityResults.Loss("imdb", "adalora", seed, step, 1.0 / step));
            }
            r.ranks.add(new QualityResults.Rank("imdb", "adalora", seed, "encoder.layer.0.attention.self.query", 8, 12));
            r.ranks.add(new QualityResults.Rank("imdb", "adalora", seed, "encoder.layer.1.attention.self.query", 4, 12));
        }
        r.write(tmp);
        QualityResults back = QualityResults.read(tmp);
        assertEquals(r.runs, back.runs);
        assertEquals(r.losses, back.losses);
        assertEquals(r.ranks, back.ranks);
        assertTrue(back.has("imdb", "adalora", 2));

        Path docs = Files.writeString(tmp.resolve("bench.md"), "# B\n" + QualityReport.DOCS_START + "\nold\n"
                + QualityReport.DOCS_END + "\ntail\n");
        QualityBenchmark.Settings s = new QualityBenchmark.Settings(List.of("imdb"),
                List.of(MethodRegistry.byName("adalora")), 2, 1, 10, 5, 1, 4, 16, tmp, tmp.resolve("charts"), docs,
                "java -jar app/target/tribuo-peft.jar quality", true);
        QualityBenchmark.run(s, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        String md = Files.readString(docs);
        assertTrue(md.contains("| imdb | adalora | 2 | 1,234 | 0.7500 ± 0.6353 | 0.6000 ± 0.0000 | 0.50 | 10 | 1000 |"),
                md);
        assertTrue(md.contains("| imdb | frozen-embedding | 2 | 0 | 0.7000 ± 0.0000 |"), md);
        assertTrue(md.endsWith(QualityReport.DOCS_END + "\ntail\n") && !md.contains("old"), md);
        assertTrue(!md.contains("Incomplete"), md);
        String partial = QualityReport.table(new QualityBenchmark.Settings(List.of("imdb"),
                List.of(MethodRegistry.byName("adalora"), MethodRegistry.byName("lora")), 3, 1, 10, 5, 1, 4, 16, tmp,
                null, null, "quality", true), back, List.of(QualityBenchmark.BASELINE, "adalora", "lora"));
        assertTrue(partial.contains("Incomplete: the work folder has fewer runs than asked for imdb/frozen-embedding "
                + "(2 of 3 seeds), imdb/adalora (2 of 3 seeds), imdb/lora (0 of 3 seeds)."), partial);
        for (String png : List.of("quality-loss-imdb.png", "quality-step-time.png", "quality-peak-memory.png",
                "quality-ranks-adalora.png")) {
            byte[] bytes = Files.readAllBytes(tmp.resolve("charts").resolve(png));
            assertEquals((byte) 0x89, bytes[0], png + " is not a PNG");
            assertEquals('P', bytes[1], png + " is not a PNG");
        }
    }

    @Test
    void aWorkFolderOfAnotherSettingIsRefusedRatherThanMixed(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("settings.txt"), "something else\n");
        QualityBenchmark.Settings s = new QualityBenchmark.Settings(List.of("imdb"), List.of(), 2, 1, 10, 5, 1, 4, 16,
                tmp, null, null, "quality", true);
        CliException e = assertThrows(CliException.class, () -> QualityBenchmark.run(s,
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
        assertTrue(e.getMessage().contains("holds results of another setting (something else)"), e.getMessage());
    }
}
