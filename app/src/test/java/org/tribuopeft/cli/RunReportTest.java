package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.io.OutputFolder;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.testing.SyntheticTexts;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.cli.TribuoPeftCliTest.JSON;
import static org.tribuopeft.cli.TribuoPeftCliTest.cli;
import static org.tribuopeft.cli.TribuoPeftCliTest.concat;

/** {@code train --output} writes a self-contained report.html that shows the run and escapes what users wrote. */
class RunReportTest {
    private static final String HOSTILE_LABEL = "<script>alert(1)</script>";

    @Test
    void trainWritesAMarkedSelfContainedReportWithTheRunsFiguresAndEscapesHostileLabelsAndPaths(@TempDir Path tmp)
            throws Exception {
        Path config = Paths.get(RunReportTest.class.getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        StringBuilder csv = new StringBuilder("text,label\n");
        for (LabelledText t : SyntheticTexts.twoClass(40, 4)) {
            csv.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? HOSTILE_LABEL : "neg")
                    .append('\n');
        }
        Path data = Files.writeString(tmp.resolve("texts<img src=x onerror=alert(2)>.csv"), csv.toString());
        Path outDir = tmp.resolve("run");
        TribuoPeftCliTest.Run train = cli(concat(new String[] {"train", "--output", outDir.toString()},
                new String[] {"--config", config.toString(), "--@trainer.backbone", TinyBert.folder(21).toString(),
                    "--@csv.dataPath", data.toString()}));
        assertEquals(0, train.code(), train.err());

        Path report = outDir.resolve(RunOutputs.REPORT);
        assertTrue(Files.isRegularFile(report), "report.html missing");
        assertTrue(Files.readAllLines(outDir.resolve(OutputFolder.MARKER)).contains(RunOutputs.REPORT),
                "report.html is not listed as ours in the output marker");
        String html = Files.readString(report);
        JsonNode metrics = JSON.readTree(outDir.resolve(RunOutputs.METRICS).toFile()).get("test");
        for (String metric : List.of("accuracy", "macro_f1")) {
            String row = "<td>" + metric + "</td><td class=\"num\">"
                    + String.format(Locale.ROOT, "%.4f", metrics.get(metric).asDouble()) + "</td>";
            assertTrue(html.contains(row), "report lacks " + row);
        }
        assertTrue(html.contains("<th>true \\ predicted</th>"), "no confusion matrix");
        // Tribuo's FieldResponseProcessor upper-cases labels by default
        String lower = html.toLowerCase(Locale.ROOT);
        assertTrue(lower.contains("<th>&lt;script&gt;alert(1)&lt;/script&gt;</th>"), "label not shown escaped");
        assertFalse(lower.contains(HOSTILE_LABEL), "a label went into the page unescaped");
        assertTrue(html.contains("texts&lt;img src=x onerror=alert(2)&gt;.csv"), "data path not shown escaped");
        assertFalse(html.contains("<img src=x"), "a data path went into the page unescaped");
        assertTrue(html.contains("src=\"data:image/png;base64,"), "no inline loss curve");
        assertFalse(html.contains("src=\"http") || html.contains("href=\"http") || html.contains("<link"),
                "the page loads something from the network");
        assertTrue(html.contains("weights-sha256"), "no base model checksum in the provenance summary");
    }

    @Test
    void escapingCoversTheFiveHtmlSignificantCharacters() {
        assertEquals("a&amp;b&lt;c&gt;d&quot;e&#39;f", RunReport.esc("a&b<c>d\"e'f"));
    }
}
