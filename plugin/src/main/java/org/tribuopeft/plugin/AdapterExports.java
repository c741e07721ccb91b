package org.tribuopeft.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuo.Output;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskHead;
import org.tribuopeft.provenance.RunProvenanceKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a trained {@link AdapterModel}'s weights in the Hugging Face ecosystem's formats: a PEFT
 * adapter folder for the methods PEFT knows, a full model folder, merged, for the others (full
 * fine-tuning, ReLoRA, whose resets rewrite the base). Each folder also
 * gets {@code tribuo_peft.json}, which records what PEFT's config cannot (pooling, label order, maximum
 * length, the base model's checksums) so the folder can become a Tribuo model again.
 */
public final class AdapterExports {
    /** The sidecar file name. */
    public static final String SIDECAR = "tribuo_peft.json";
    /** The sidecar key recording the quantized base a QLoRA adapter was trained on (absent for a float32 base). */
    public static final String QUANTIZATION = "quantization";

    /** The sidecar field listing the outputs (labels, or regression dimensions) in head row order. */
    static final String OUTPUTS = "outputs_in_head_order";

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterExports() {}

    /**
     * Writes the model's adapter folder: PEFT format for LoRA, DoRA and AdaLoRA; a Hugging Face model
     * folder for full fine-tuning.
     */
    public static <T extends Output<T>> void write(AdapterModel<T> model, Path dir, PeftKeyStyle style) throws IOException {
        write(model, dir, style, false);
    }

    /**
     * Writes the model's adapter folder, as {@link #write(AdapterModel, Path, PeftKeyStyle)} does.
     *
     * @param overwrite whether to write into a folder that also holds files this library did not write;
     *     those files are kept either way
     */
    public static <T extends Output<T>> void write(AdapterModel<T> model, Path dir, PeftKeyStyle style, boolean overwrite)
            throws IOException {
        if (model.methodDescriptor().peftForm().isEmpty()) {
            writeFullModel(model, dir, overwrite);
        } else {
            writePeft(model, dir, style, overwrite);
        }
    }

    /** The files {@link #write} puts in its folder, so a folder can be checked before anything is written. */
    public static <T extends Output<T>> List<String> entries(AdapterModel<T> model) {
        return model.methodDescriptor().peftForm().isEmpty()
                ? List.of(Backbone.CONFIG_JSON, Backbone.MODEL_SAFETENSORS, Backbone.TOKENIZER_JSON, SIDECAR)
                : List.of(org.tribuopeft.adapters.peft.PeftAdapterWriter.CONFIG,
                        org.tribuopeft.adapters.peft.PeftAdapterWriter.WEIGHTS, SIDECAR);
    }

    /** Writes a PEFT folder plus the sidecar. */
    public static <T extends Output<T>> void writePeft(AdapterModel<T> model, Path dir, PeftKeyStyle style)
            throws IOException {
        writePeft(model, dir, style, false);
    }

    /** Writes a PEFT folder plus the sidecar, in one atomic step; see {@link #write(AdapterModel, Path, PeftKeyStyle, boolean)}. */
    public static <T extends Output<T>> void writePeft(AdapterModel<T> model, Path dir, PeftKeyStyle style,
                                                       boolean overwrite) throws IOException {
        // the base in the storage the model trained on: a QLoRA model never loads a float32 copy to be written
        Backbone base = model.backboneReference().load(model.quantization());
        PeftAdapter adapter = new PeftAdapter(model.method(), model.trainedTensors(), model.rankMasks(),
                model.backboneReference().location(), Map.of(), style, trainedSteps(model));
        PeftAdapterWriter.write(dir, adapter, style, pretrainedOnDemand(base), Map.of(SIDECAR, sidecar(model,
                style.name())), overwrite);
    }

    /**
     * The base's pretrained weights by name, read only if a method's PEFT form asks for one: only a method that
     * changed the base (PiSSA; refused on a quantized base) does, and training released the backbone's Java copy,
     * so reading them for every adapter would parse the whole base file again for nothing.
     */
    static Map<String, HostTensor> pretrainedOnDemand(Backbone base) {
        return new java.util.AbstractMap<>() {
            private Map<String, HostTensor> read;

            private Map<String, HostTensor> read() {
                if (read == null) {
                    read = base.weights().isQuantized() ? Map.of() : base.weights().tensors();
                }
                return read;
            }

            @Override
            public HostTensor get(Object key) {
                return read().get(key);
            }

            @Override
            public boolean containsKey(Object key) {
                return read().containsKey(key);
            }

            @Override
            public java.util.Set<Entry<String, HostTensor>> entrySet() {
                return read().entrySet();
            }
        };
    }

    /** The optimizer steps the model was trained for, from its provenance (0 when not recorded). */
    static <T extends Output<T>> int trainedSteps(AdapterModel<T> model) {
        var run = model.getProvenance().getInstanceProvenance().getMap().get(RunProvenanceKeys.TRAINING_RUN);
        if (run instanceof org.tribuopeft.provenance.TrainingRunProvenance trp
                && trp.fields().get("steps-planned") instanceof com.oracle.labs.mlrg.olcut.provenance.primitives
                .IntProvenance steps) {
            return steps.getValue();
        }
        return 0;
    }

    /**
     * Writes a full fine-tune or a ReLoRA model as a Hugging Face folder: config.json, model.safetensors
     * (encoder with any adapter merged, and head), tokenizer.
     */
    public static <T extends Output<T>> void writeFullModel(AdapterModel<T> model, Path dir) throws IOException {
        writeFullModel(model, dir, false);
    }

    /** Writes a full fine-tune as a Hugging Face folder; see {@link #write(AdapterModel, Path, PeftKeyStyle, boolean)}. */
    public static <T extends Output<T>> void writeFullModel(AdapterModel<T> model, Path dir, boolean overwrite)
            throws IOException {
        Backbone base = model.backboneReference().load();
        Map<String, HostTensor> weights = new LinkedHashMap<>(base.weights().tensors());
        model.trainedTensors().forEach((name, t) -> {
            if (weights.containsKey(name) || name.startsWith(TaskHead.MODULE_NAME + ".")) {
                weights.put(name, t);
            }
        });
        // adapter layers (ReLoRA's last restart) are folded in on the host, leaving the live model untouched
        model.textModel().adapted().layers().forEach((module, layer) ->
                weights.put(module + ".weight", weights.get(module + ".weight").plus(layer.deltaWeight())));
        String sidecar = sidecar(model, "HF_MODEL");
        AtomicFiles.writeFolder(dir, tmp -> {
            Files.writeString(tmp.resolve(Backbone.CONFIG_JSON),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(base.config().toHfJson()));
            SafetensorsWriter.write(tmp.resolve(Backbone.MODEL_SAFETENSORS), weights, Map.of());
            Files.write(tmp.resolve(Backbone.TOKENIZER_JSON), base.tokenizerJson());
            Files.writeString(tmp.resolve(SIDECAR), sidecar);
        }, overwrite);
    }

    /** Reads a folder's sidecar. */
    static JsonNode readSidecar(Path dir) throws IOException {
        return JSON.readTree(dir.resolve(SIDECAR).toFile());
    }

    /** The outputs a sidecar lists, in head row order. */
    static List<String> outputs(JsonNode sidecar) {
        List<String> names = new ArrayList<>();
        sidecar.path(OUTPUTS).forEach(n -> names.add(n.asText()));
        return names;
    }

    static <T extends Output<T>> String sidecar(AdapterModel<T> model, String layout) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format_version", 1);
        o.put("layout", layout);
        o.put("method", model.methodDescriptor().name());
        o.put("task", model.task().name());
        ArrayNode labels = o.putArray(OUTPUTS);
        HeadOutputs.names(model.getOutputIDInfo()).forEach(labels::add);
        BackboneReference ref = model.backboneReference();
        o.put("pooling", ref.pooling().name());
        o.put("head", "classifier(dropout(" + ref.pooling().name().toLowerCase(java.util.Locale.ROOT)
                + "_pool(last_hidden_state, attention_mask)))");
        // methods that add virtual tokens or an attention prefix leave them out of last_hidden_state
        o.put("pooled_positions", "real tokens only: virtual tokens and attention prefixes are excluded, mean pooling "
                + "covers the attention mask of the text and CLS is its first real token");
        o.put("max_length", model.maxLength());
        o.put("text_field", model.textField());
        ObjectNode b = o.putObject("base_model");
        b.put("kind", ref.kind().name());
        b.put("location", ref.location());
        b.put("weights_sha256", ref.weightsSha256());
        b.put("tokenizer_sha256", ref.tokenizerSha256());
        b.put("maven_coordinates", ref.mavenCoordinates());
        BaseQuantization q = model.quantization();
        if (q != null) {
            // the adapter is an ordinary one; this says which quantized base it was trained on (QLoRA)
            ObjectNode qn = o.putObject(QUANTIZATION);
            qn.put("type", q.type());
            qn.put("block_size", q.blockSize());
            qn.put("double_quant", q.doubleQuant());
            qn.put("compute_dtype", q.computeType());
            qn.put("quantized_modules", "every Linear of the encoder (query, key, value, attention.output.dense, "
                    + "intermediate.dense, output.dense); embeddings, LayerNorms and biases float32");
            if (q.format().blockwise()) {
                ObjectNode bnb = qn.putObject("transformers_bitsandbytes_config");
                bnb.put("load_in_4bit", true);
                bnb.put("bnb_4bit_quant_type", q.type());
                bnb.put("bnb_4bit_use_double_quant", q.doubleQuant());
                bnb.put("bnb_4bit_compute_dtype", q.computeType());
            } else {
                ObjectNode bnb = qn.putObject("transformers_bitsandbytes_config");
                bnb.put("load_in_8bit", true);
                bnb.put("llm_int8_threshold", 0.0);
            }
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o);
    }
}
