package org.tribuopeft.plugin;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.tribuo.ONNXExportable;
import org.tribuo.Output;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.export.OnnxAdapterParameters;
import org.tribuopeft.adapters.export.OnnxExporter;
import org.tribuopeft.adapters.export.OrtAdapterFile;
import org.tribuopeft.adapters.export.WeightFormat;
import org.tribuopeft.adapters.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Exports {@link AdapterModel}s for ONNX Runtime: a standalone merged model, or one base model with
 * adapter inputs plus one {@code .onnx_adapter} file per model (many adapters served by one session).
 * Each ONNX file carries what a reader needs to use it without this library's model files: the
 * tokenizer, the label order, the task, the maximum length, and the Tribuo provenance (under
 * Tribuo's own {@code TRIBUO_PROVENANCE} key and format).
 */
public final class OnnxExports {
    /** Metadata key prefix. */
    public static final String PREFIX = "tribuo_peft.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private OnnxExports() {}

    /** Writes a model as a standalone ONNX file with its adapter merged into the weights (float32). */
    public static <T extends Output<T>> void writeMerged(AdapterModel<T> model, Path file) throws IOException {
        writeMerged(model, file, WeightFormat.FLOAT32);
    }

    /**
     * Writes a model as a standalone ONNX file with its adapter merged into the weights and the encoder's
     * Linear weights stored in {@code format} (ONNX Runtime's {@code MatMulNBits} for int8 and int4). The
     * format is recorded under {@code tribuo_peft.weight_format}.
     *
     * @throws org.tribuopeft.adapters.export.WeightFormatException before anything is written when the
     *     format's block size does not divide the encoder's widths
     */
    public static <T extends Output<T>> void writeMerged(AdapterModel<T> model, Path file, WeightFormat format)
            throws IOException {
        checkFits(model, format);
        Map<String, String> meta = metadata(model, "merged");
        meta.put(ONNXExportable.PROVENANCE_METADATA_FIELD, ONNXExportable.SERIALIZER.marshalAndSerialize(
                model.getProvenance()));
        ModelProto proto = OnnxExporter.merged(model.textModel(), meta, format);
        AtomicFiles.write(file, proto::writeTo);
    }

    /**
     * Checks that a model's encoder can be exported in {@code format}, so callers can refuse before writing.
     *
     * @throws org.tribuopeft.adapters.export.WeightFormatException naming the module and block size
     */
    public static <T extends Output<T>> void checkFits(AdapterModel<T> model, WeightFormat format) {
        OnnxExporter.checkFits(model.textModel().backbone().config(), format);
    }

    /**
     * Writes one base ONNX file with adapter inputs for every module any of the models adapts. The
     * models must share base, task, outputs, pooling and length.
     */
    @SafeVarargs
    public static <T extends Output<T>> void writeAdapterBase(Path file, AdapterModel<T>... models) throws IOException {
        if (models.length == 0) {
            throw new IllegalArgumentException("no models given");
        }
        AdapterModel<T> first = models[0];
        Set<String> modules = new LinkedHashSet<>();
        for (AdapterModel<T> m : models) {
            String why = m.mismatchWith(first);
            if (why != null) {
                throw new IllegalArgumentException(m.getName() + " " + why + " than " + first.getName()
                        + "; adapters sharing one ONNX session must agree on base, outputs, length and pooling");
            }
            modules.addAll(m.textModel().adapted().layers().keySet());
        }
        Backbone base = first.backboneReference().load();
        ModelProto proto = OnnxExporter.export(new OnnxExporter.Spec(base.weights(), null, null,
                first.getOutputIDInfo().size(), first.backboneReference().pooling(), first.task(), modules,
                metadata(first, "adapter-inputs")));
        AtomicFiles.write(file, proto::writeTo);
    }

    /** Writes a model's adapter and head as an ONNX Runtime {@code .onnx_adapter} file for the base above. */
    public static <T extends Output<T>> void writeAdapter(AdapterModel<T> model, Path file) throws IOException {
        OrtAdapterFile.write(file, OnnxAdapterParameters.of(model.method(), model.trainedTensors(), model.rankMasks()),
                1, 1);
    }

    private static <T extends Output<T>> Map<String, String> metadata(AdapterModel<T> model, String form)
            throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "form", form);
        m.put(PREFIX + "task", model.task().name());
        m.put(PREFIX + "outputs", JSON.writeValueAsString(HeadOutputs.names(model.getOutputIDInfo())));
        m.put(PREFIX + "max_length", Integer.toString(model.maxLength()));
        m.put(PREFIX + "text_field", model.textField());
        m.put(PREFIX + "pooling", model.backboneReference().pooling().name());
        m.put(PREFIX + "base_weights_sha256", model.backboneReference().weightsSha256());
        m.put(PREFIX + "tokenizer", new String(model.backboneReference().load().tokenizerJson(), StandardCharsets.UTF_8));
        return m;
    }

    /** The metadata keys every export writes, for readers. */
    public static List<String> keys() {
        return List.of("form", "task", "outputs", "max_length", "text_field", "pooling", "base_weights_sha256",
                "tokenizer");
    }
}
