package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.provenance.replay.ModelReplayer;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer's {@code computePrecision} property: float32 unless set, bfloat16 by name, anything else refused
 * naming the property; recorded in provenance so a replay and a shipped trainer train in the same precision; a resume
 * under the other precision and bfloat16 on a quantized base are refused.
 */
class ComputePrecisionTrainerTest {
    private static final MutableDataset<Label> DATA = TinyDatasets.labels(32, 1);

    private static AdapterTrainer<Label> trainer(ComputePrecision precision) {
        return AdapterTrainerTest.trainer().toBuilder().computePrecision(precision).build();
    }

    private static Object recorded(AdapterTrainer<?> trainer) {
        return ((PrimitiveProvenance<?>) trainer.getProvenance().getConfiguredParameters().get("computePrecision"))
                .getValue();
    }

    @SuppressWarnings("unchecked")
    private static AdapterTrainer<Label> fromConfig(String precision) throws Exception {
        ConfigurationManager cm = new ConfigurationManager(new String[] {"-c", MethodSwitchingTest.configPath(),
            "--@trainer.backbone", TinyBert.folder(21).toString(), "--@trainer.computePrecision", precision});
        return (AdapterTrainer<Label>) cm.lookup("trainer");
    }

    @Test
    void float32UnlessSetAndBfloat16ByNameFromCodeOrConfiguration() throws Exception {
        assertEquals(ComputePrecision.FLOAT32, AdapterTrainerTest.trainer().computePrecision());
        assertEquals("float32", recorded(AdapterTrainerTest.trainer()));
        AdapterTrainer<Label> bf16 = trainer(ComputePrecision.BFLOAT16);
        assertEquals(ComputePrecision.BFLOAT16, bf16.computePrecision());
        assertEquals("bfloat16", recorded(bf16));
        assertEquals("bfloat16", recorded(fromConfig("bfloat16")));
        assertEquals(ComputePrecision.BFLOAT16, fromConfig("BFloat16").computePrecision());
        assertEquals("bfloat16", recorded(fromConfig("BFloat16")), "one spelling in provenance");
        // a derived trainer keeps it
        assertEquals(ComputePrecision.BFLOAT16, bf16.withProgressSeconds(5).computePrecision());
    }

    @Test
    void anyOtherValueIsRefusedNamingTheProperty() {
        PropertyException e = assertThrows(PropertyException.class, () -> fromConfig("float16"));
        assertEquals("computePrecision", e.getProperty());
        assertEquals("computePrecision must be float32 or bfloat16, found 'float16'", e.getMsg());
    }

    @Test
    void bfloat16IsRefusedOnAQuantizedBaseNamingTheProperty() {
        PropertyException e = assertThrows(PropertyException.class, () -> AdapterTrainer.builder(
                        new LoraConfig(4, 8, 0.0, List.of("query", "value"))).backbone(TinyBert.wideFolder(31))
                .quantization(BaseQuantization.qlora()).computePrecision(ComputePrecision.BFLOAT16).build());
        assertEquals("computePrecision", e.getProperty());
        assertEquals("computePrecision bfloat16 cannot apply to a base quantized as " + BaseQuantization.qlora()
                + ": its Linear layers compute in the quantization's computeType, and float32 is the only one "
                + "supported; set computePrecision to float32 or remove the quantization", e.getMsg());
    }

    @Test
    void aBfloat16ModelReplaysBitForBitInBfloat16(@TempDir Path tmp) throws Exception {
        Path csv = ReplayTest.imdbCsv(tmp);
        @SuppressWarnings("unchecked")
        TextPipeline<Label> pipeline = (TextPipeline<Label>) new ConfigurationManager(new String[] {"-c",
            MethodSwitchingTest.configPath(), "--@trainer.method", "lora", "--@trainer.backbone",
            TinyBert.folder(21).toString(), "--@csv.dataPath", csv.toString(), "--@trainer.maxLength", "32",
            "--@trainer.batchSize", "12", "--@trainer.computePrecision", "bfloat16"}).lookup("pipeline");
        try (AdapterModel<Label> original = (AdapterModel<Label>) pipeline.run().model()) {
            assertEquals("bfloat16", recorded((AdapterTrainer<?>) pipeline.trainer()));
            ModelReplayer.Result<Label> r = Replays.replay(original);
            assertTrue(r.report().bitIdentical(), r.report().render());
            assertTrue(r.report().unexpectedDifferences().isEmpty(), r.report().render());
            try (AdapterModel<Label> replayed = (AdapterModel<Label>) r.replayed()) {
                assertEquals(original.getProvenance().getTrainerProvenance(),
                        replayed.getProvenance().getTrainerProvenance());
                assertTrue(replayed.getProvenance().getTrainerProvenance().getConfiguredParameters()
                        .get("computePrecision").toString().contains("bfloat16"));
            }
        }
    }

    @Test
    void aResumeUnderTheOtherPrecisionIsRefusedWithBothValues(@TempDir Path tmp) {
        trainer(ComputePrecision.FLOAT32).withCheckpoints(tmp.toString(), 2, 100).train(DATA).close();
        Exception e = assertThrows(Exception.class, () -> trainer(ComputePrecision.BFLOAT16)
                .withResumeFrom(tmp.toString()).train(DATA));
        assertTrue(e.getMessage().contains("computePrecision is bfloat16 in this run but float32 in the checkpoint"),
                e.getMessage());
    }
}
