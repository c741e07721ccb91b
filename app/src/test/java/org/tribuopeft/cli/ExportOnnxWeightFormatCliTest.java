package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.export.WeightFormat;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.plugin.OnnxTextModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tribuopeft.cli.TribuoPeftCliTest.cli;
import static org.tribuopeft.cli.TribuoPeftCliTest.concat;

/** {@code export-onnx --weight-format} writes a quantized file that OnnxTextModel runs, and refuses a block size that does not fit. */
class ExportOnnxWeightFormatCliTest {

    @Test
    void exportOnnxWritesFourBitWeightsAndRefusesABlockWiderThanTheEncoder(@TempDir Path tmp) throws Exception {
        Path config = Paths.get(getClass().getResource("/org/tribuopeft/plugin/tiny-pipeline.xml").toURI());
        StringBuilder csv = new StringBuilder("text,label\n");
        for (LabelledText t : SyntheticTexts.twoClass(40, 4)) {
            csv.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? "pos" : "neg").append('\n');
        }
        Path data = Files.writeString(tmp.resolve("texts.csv"), csv.toString());
        Path run = tmp.resolve("run");
        TribuoPeftCliTest.Run train = cli(concat(new String[] {"train", "--output", run.toString()}, new String[] {
            "--config", config.toString(), "--@trainer.backbone", TinyBert.folder(21).toString(), "--@csv.dataPath",
            data.toString()}));
        assertEquals(0, train.code(), train.err());
        String model = run.resolve("model.tribuo").toString();

        Path int4 = tmp.resolve("int4.onnx");
        TribuoPeftCliTest.Run ok = cli("export-onnx", "--model", model, "--output", int4.toString(), "--weight-format",
                "int4:16");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("(merged, int4:16 weights)"), ok.out());
        try (OnnxTextModel<Label> m = OnnxTextModel.load(int4, null, false)) {
            assertEquals(WeightFormat.parse("int4:16"), m.weightFormat());
        }

        // the tiny encoder is 16 wide: block 32 does not divide it, and nothing is written
        Path refused = tmp.resolve("int4-32.onnx");
        TribuoPeftCliTest.Run bad = cli("export-onnx", "--model", model, "--output", refused.toString(),
                "--weight-format", "int4:32");
        assertEquals(1, bad.code(), bad.err());
        assertEquals("error: block size 32 does not suit encoder.layer.0.attention.self.query: its input width 16 is "
                + "not a multiple of 32; choose a block size that divides 16\n", bad.err());
        assertFalse(Files.exists(refused));
    }
}
