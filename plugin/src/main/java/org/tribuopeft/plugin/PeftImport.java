package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.impl.EmptyDatasetProvenance;
import org.tribuo.provenance.impl.EmptyTrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterReader;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.provenance.BaseModelProvenance;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TokenizerProvenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a Tribuo {@link AdapterModel} from a Hugging Face PEFT folder and a base model: a folder
 * written by this library (whose {@code tribuo_peft.json} names the task, outputs, pooling and length),
 * or one written by Python PEFT with a trained {@code classifier} under {@code modules_to_save}, for
 * which the caller names the outputs.
 */
public final class PeftImport {
    private PeftImport() {}

    /**
     * What the folder cannot say by itself (used when it has no {@code tribuo_peft.json}).
     *
     * @param task the head's task
     * @param outputs output names in the head's row order
     * @param pooling CLS or MEAN
     * @param maxLength tokens per text
     * @param textField the metadata key of the text
     */
    public record Options(TaskKind task, List<String> outputs, Pooling pooling, int maxLength, String textField) {}

    /**
     * Loads a PEFT folder written by this library (it has {@code tribuo_peft.json}).
     *
     * @param dir the PEFT folder
     * @param backbone the base model: bundled name, folder or .onnx file
     */
    public static <T extends Output<T>> AdapterModel<T> load(Path dir, String backbone) throws IOException {
        Path sidecar = dir.resolve(AdapterExports.SIDECAR);
        if (!Files.exists(sidecar)) {
            throw new ModelFileException(sidecar, "does not exist; for a folder written by Python PEFT pass Options "
                    + "naming the task, the outputs in head order, the pooling and the maximum length");
        }
        JsonNode s = AdapterExports.readSidecar(dir);
        Options o = new Options(TaskKind.valueOf(s.path("task").asText()), AdapterExports.outputs(s),
                Pooling.valueOf(s.path("pooling").asText("MEAN")), s.path("max_length").asInt(128),
                s.path("text_field").asText("text"));
        return load(dir, backbone, o, quantization(s, sidecar));
    }

    /** The quantized base a sidecar records, or null for a float32 one. */
    static BaseQuantization quantization(JsonNode sidecar, Path file) throws ModelFileException {
        JsonNode q = sidecar.path(AdapterExports.QUANTIZATION);
        if (q.isMissingNode() || q.isNull()) {
            return null;
        }
        try {
            return new BaseQuantization(q.path("type").asText(""), q.path("block_size").asInt(64),
                    q.path("double_quant").asBoolean(false));
        } catch (RuntimeException e) {
            throw new ModelFileException(file, "has a '" + AdapterExports.QUANTIZATION + "' entry this version cannot "
                    + "rebuild: " + e.getMessage(), e);
        }
    }

    /**
     * Loads a PEFT folder with explicit options.
     *
     * @param dir the PEFT folder
     * @param backbone the base model: bundled name, folder or .onnx file
     * @param options the task, outputs, pooling, length and text key
     * @throws ModelFileException when the folder is malformed, does not fit the base, or has no head
     */
    public static <T extends Output<T>> AdapterModel<T> load(Path dir, String backbone, Options options)
            throws IOException {
        return load(dir, backbone, options, null);
    }

    private static <T extends Output<T>> AdapterModel<T> load(Path dir, String backbone, Options options,
                                                              BaseQuantization quantization) throws IOException {
        Backbone base = BackboneSpec.open(backbone, "", options.pooling(), quantization);
        PeftAdapter adapter = PeftAdapterReader.read(dir, base.config());
        HostTensor head = adapter.tensors().get("classifier.weight");
        Path weights = dir.resolve(PeftAdapterWriter.WEIGHTS);
        if (head == null || !adapter.tensors().containsKey("classifier.bias")) {
            throw new ModelFileException(weights, "has no trained head (base_model.model.classifier.weight and .bias "
                    + "under modules_to_save), so it cannot predict; continue training it with AdapterTrainer's "
                    + "initialAdapter instead");
        }
        if (head.dim(0) != options.outputs().size() || head.dim(1) != base.config().hiddenSize()) {
            throw new ModelFileException(weights, "classifier.weight has shape [" + head.dim(0) + ", " + head.dim(1)
                    + "] but " + options.outputs().size() + " outputs over a " + base.config().hiddenSize()
                    + "-wide encoder need [" + options.outputs().size() + ", " + base.config().hiddenSize() + "]");
        }
        ImmutableOutputInfo<T> info = HeadOutputs.domain(options.task(), options.outputs());
        Map<String, Provenance> run = new HashMap<>();
        run.put(RunProvenanceKeys.BASE_MODEL, BaseModelProvenance.of(base));
        run.put(RunProvenanceKeys.TOKENIZER, TokenizerProvenance.of(base, options.maxLength()));
        run.put("tribuo-peft.imported-from", new StringProvenance("tribuo-peft.imported-from",
                dir.toAbsolutePath().toString()));
        run.put("tribuo-peft.imported-weights-sha256", new HashProvenance(ProvenanceUtil.HashType.SHA256,
                "tribuo-peft.imported-weights-sha256", Sha256.ofFile(weights)));
        if (!adapter.unknownKeys().isEmpty()) {
            run.put("tribuo-peft.unknown-peft-keys", new StringProvenance("tribuo-peft.unknown-peft-keys",
                    String.join(",", adapter.unknownKeys())));
        }
        ModelProvenance provenance = new ModelProvenance(AdapterModel.class.getName(), OffsetDateTime.now(),
                new EmptyDatasetProvenance(), new EmptyTrainerProvenance(), run);
        BackboneReference ref = BackboneReference.of(base, BackboneSpec.tokenizerLocation(backbone, ""));
        org.tribuo.MutableFeatureMap features = new org.tribuo.MutableFeatureMap();
        features.add(TextPresenceProcessor.FEATURE, 1.0);
        return new AdapterModel<>("peft-" + adapter.method().descriptor().name() + "-"
                + dir.getFileName().toString().toLowerCase(Locale.ROOT), provenance, new ImmutableFeatureMap(features), info,
                new AdapterModel.Parts(ref, adapter.method(), quantization, options.maxLength(), options.textField(), 64),
                new TextModel.Snapshot(adapter.tensors(), adapter.rankMasks()), null);
    }
}
