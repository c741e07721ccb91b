package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.io.FiniteTensors;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads a Hugging Face PEFT folder into a {@link PeftAdapter} for a given base model, for every method
 * whose descriptor in {@link MethodRegistry} has a {@link PeftForm}: the form named by {@code peft_type}
 * reads the method's settings and checks its tensors against the base's shapes. An unknown
 * {@code peft_type} is refused with the registered ones; config keys from newer PEFT versions that the
 * form does not know are kept and reported rather than failing; settings that would change the math and
 * are not implemented (the settings in {@link #UNSUPPORTED_WHEN_SET}, and those each form refuses) are
 * refused by name.
 */
public final class PeftAdapterReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Settings (PEFT 0.21) that change the forward pass when set, which this library does not implement. */
    static final Map<String, String> UNSUPPORTED_WHEN_SET = Map.of(
            "lora_bias", "a trainable bias on lora_B",
            "use_qalora", "quantization-aware LoRA",
            "use_bdlora", "block-diagonal LoRA",
            "alora_invocation_tokens", "activated LoRA",
            "trainable_token_indices", "trainable token embeddings",
            "arrow_config", "Arrow routing between adapters");

    private PeftAdapterReader() {}

    /**
     * Reads a folder.
     *
     * @param dir the PEFT folder
     * @param base the architecture of the base model the adapter must fit
     * @throws ModelFileException naming the file and the key or tensor at fault
     */
    public static PeftAdapter read(Path dir, BertConfig base) throws IOException {
        Path configFile = dir.resolve(PeftAdapterWriter.CONFIG);
        Path weightsFile = dir.resolve(PeftAdapterWriter.WEIGHTS);
        JsonNode cfg;
        try {
            cfg = JSON.readTree(Files.readAllBytes(configFile));
        } catch (NoSuchFileException e) {
            throw new ModelFileException(configFile, "does not exist; a PEFT folder needs adapter_config.json", e);
        } catch (IOException e) {
            throw new ModelFileException(configFile, "is not valid JSON: " + e.getMessage(), e);
        }
        if (cfg == null || !cfg.isObject()) {
            throw new ModelFileException(configFile, "must hold a JSON object");
        }
        String type = LowRankPeftFields.required(cfg, "peft_type", configFile).asText();
        PeftForm form = formFor(type, cfg, configFile);
        Map<String, String> unknown = new TreeMap<>();
        for (Iterator<String> it = cfg.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!form.configKeys().contains(k)) {
                unknown.put(k, cfg.get(k).toString());
            }
        }
        if (!unknown.isEmpty()) {
            System.err.println("NOTE: " + configFile + " has keys this version does not know (kept, not used): "
                    + unknown.keySet());
        }
        for (Map.Entry<String, String> u : UNSUPPORTED_WHEN_SET.entrySet()) {
            JsonNode v = cfg.get(u.getKey());
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.asBoolean()) && !(v.isContainerNode() && v.isEmpty())) {
                throw new ModelFileException(configFile, u.getKey() + "=" + v + " asks for " + u.getValue()
                        + ", which this library does not implement");
            }
        }
        AdapterMethod method = form.fitToBase(form.readConfig(cfg, configFile), base, configFile);
        SafetensorsReader.Content content = SafetensorsReader.read(weightsFile);
        // checked before any use, so a damaged file is not mistaken later for a diverged training run
        FiniteTensors.require(weightsFile, content.floats());
        PeftKeyStyle style = detectStyle(content.floats().keySet(), form, cfg, weightsFile);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>();
        for (Map.Entry<String, HostTensor> e : content.floats().entrySet()) {
            String key = e.getKey();
            String name;
            if (key.startsWith(style.encoderPrefix() + "pooler.")) {
                // PEFT's "dense" also matches BertModel's pooler, which this encoder does not have and which
                // does not affect last_hidden_state
                ignored.add(key);
                continue;
            }
            if (form.sharedTensorKeys().containsKey(key)) {
                name = form.sharedTensorKeys().get(key);
            } else if (key.startsWith(style.encoderPrefix() + "encoder.") || key.startsWith(style.encoderPrefix() + "embeddings.")) {
                name = key.substring(style.encoderPrefix().length()).replace(".base_layer.bias", ".bias");
            } else if (key.startsWith(form.headKeyPrefix() + "classifier.")) {
                name = key.substring(form.headKeyPrefix().length());
            } else {
                throw new ModelFileException(weightsFile, "tensor '" + key + "' is neither an encoder adapter tensor nor "
                        + "the classifier head (prefix " + style.encoderPrefix() + ")");
            }
            tensors.put(name, e.getValue());
        }
        if (!ignored.isEmpty()) {
            System.err.println("NOTE: " + weightsFile + " adapts the pooler, which this encoder has no use for; ignored: "
                    + ignored);
        }
        Map<String, boolean[]> masks = form.readTensors(method, cfg, style, tensors, base, configFile, weightsFile);
        String baseName = cfg.path("base_model_name_or_path").asText("");
        return new PeftAdapter(method, tensors, masks, baseName, unknown, style, form.scheduledSteps(cfg));
    }

    /**
     * The registered form for a folder's {@code peft_type} (and, for types several methods share, its flags).
     *
     * @throws ModelFileException naming the file and listing the registered types
     */
    static PeftForm formFor(String type, JsonNode cfg, Path configFile) throws ModelFileException {
        List<PeftForm> forms = MethodRegistry.all().stream().flatMap(d -> d.peftForm().stream()).toList();
        for (PeftForm f : forms) {
            if (f.peftType().equals(type) && f.reads(cfg)) {
                return f;
            }
        }
        Set<String> types = new TreeSet<>();
        forms.forEach(f -> types.add(f.peftType()));
        if (types.contains(type)) {
            throw new ModelFileException(configFile, "peft_type '" + type + "' with these flags (use_dora="
                    + cfg.path("use_dora").asBoolean(false) + ") matches no registered method; the registered methods "
                    + "are " + MethodRegistry.names());
        }
        throw new ModelFileException(configFile, "peft_type '" + type + "' is not supported; the registered types are "
                + types + " (methods " + MethodRegistry.names() + ")");
    }

    private static PeftKeyStyle detectStyle(Set<String> keys, PeftForm form, JsonNode cfg, Path file)
            throws ModelFileException {
        boolean seq = keys.stream().anyMatch(k -> k.startsWith(PeftKeyStyle.SEQUENCE_CLASSIFICATION.encoderPrefix()));
        boolean bare = keys.stream().anyMatch(k -> k.startsWith(PeftKeyStyle.BARE_ENCODER.encoderPrefix() + "encoder."));
        if (seq && bare) {
            throw new ModelFileException(file, "mixes 'base_model.model.bert.' and 'base_model.model.encoder.' keys");
        }
        if (!seq && !bare && keys.stream().anyMatch(form.sharedTensorKeys()::containsKey)) {
            // a method whose tensors all sit outside the encoder (prompt tuning) says its style only by task_type
            return PeftKeyStyle.SEQUENCE_CLASSIFICATION.taskType().equals(cfg.path("task_type").asText())
                    ? PeftKeyStyle.SEQUENCE_CLASSIFICATION : PeftKeyStyle.BARE_ENCODER;
        }
        if (!seq && !bare) {
            throw new ModelFileException(file, "has no adapter tensors under 'base_model.model.encoder.' or "
                    + "'base_model.model.bert.encoder.'; keys found: " + keys.stream().limit(5).toList());
        }
        return seq ? PeftKeyStyle.SEQUENCE_CLASSIFICATION : PeftKeyStyle.BARE_ENCODER;
    }

}
