package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One method's side of a Hugging Face PEFT folder: its {@code peft_type}, the mapping between its
 * settings and {@code adapter_config.json}, and between its tensors and the folder's keys and shapes.
 * {@link PeftAdapterReader} and {@link PeftAdapterWriter} handle what every method shares (the JSON and
 * safetensors files, key prefixes, the head, unknown keys) and ask the form for the rest.
 */
public interface PeftForm {
    /** PEFT's {@code peft_type}, e.g. {@code LORA}. */
    String peftType();

    /** True when a config of this form's {@code peft_type} is this method (LoRA and DoRA share LORA). */
    default boolean reads(JsonNode config) {
        return true;
    }

    /**
     * The prefix of the head's keys ({@code <prefix>classifier.weight}): {@code base_model.model.} for methods
     * that wrap Linears, {@code base_model.} for prompt-learning methods, whose PEFT model wraps the base directly.
     */
    default String headKeyPrefix() {
        return PeftKeyStyle.HEAD_PREFIX;
    }

    /** The adapter_config.json keys of PEFT's config class that this form understands or may ignore safely. */
    Set<String> configKeys();

    /** The tensor-name endings of one adapted module's own tensors, e.g. {@code .lora_A.weight}. */
    List<String> tensorSuffixes();

    /**
     * Tensors the method shares between modules, PEFT key to this library's name (VeRA's projections are
     * saved as {@code base_model.vera_A}); empty for methods whose tensors all belong to one module.
     */
    default Map<String, String> sharedTensorKeys() {
        return Map.of();
    }

    /**
     * Builds the settings from a folder's config.
     *
     * @throws ModelFileException naming the file and the key at fault
     */
    AdapterMethod readConfig(JsonNode config, Path file) throws ModelFileException;

    /**
     * Fits the settings read by {@link #readConfig} to the base model, before the tensors are read: settings are
     * immutable, so a form that drops what selects nothing (LoRA's unused pattern keys, as PEFT ignores them)
     * returns a new object. The default keeps the settings.
     *
     * @param method the settings read by {@link #readConfig}
     * @param base the base model's architecture
     * @param configFile the config file, for messages
     * @throws ModelFileException naming the file and the setting at fault
     */
    default AdapterMethod fitToBase(AdapterMethod method, BertConfig base, Path configFile) throws ModelFileException {
        return method;
    }

    /**
     * Checks a folder's tensors against the settings and the base model's shapes and brings them to the
     * form training uses (in place).
     *
     * @param method the settings read by {@link #readConfig}
     * @param config the folder's config
     * @param style the folder's key style
     * @param tensors every tensor of the folder under this library's names; modified in place
     * @param base the base model's architecture
     * @param configFile the config file, for messages
     * @param weightsFile the weights file, for messages
     * @return the kept-rank masks by module for methods whose layers have them, else empty
     * @throws ModelFileException naming the file and the tensor at fault
     */
    Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode config, PeftKeyStyle style,
                                       Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                       Path weightsFile) throws ModelFileException;

    /** The optimizer steps a folder says the method was scheduled over (AdaLoRA's total_step), or 0. */
    default int scheduledSteps(JsonNode config) {
        return 0;
    }

    /**
     * Writes this method's settings into a config that already holds the shared keys.
     *
     * @param adapter the adapter being written
     * @param config the config object to fill
     * @param style the key style being written
     * @param adaptedModules the modules that hold adapter tensors, in name order
     */
    void writeConfig(PeftAdapter adapter, ObjectNode config, PeftKeyStyle style, Set<String> adaptedModules);

    /**
     * The adapter's tensors in the folder's form, under this library's names (sliced, converted).
     *
     * @param adapter the adapter being written
     * @param pretrainedWeights the base model's original weights by name ({@code <module>.weight}), for methods
     *     that changed the base and must be converted back (PiSSA); may be empty otherwise
     */
    default Map<String, HostTensor> writeTensors(PeftAdapter adapter, Map<String, HostTensor> pretrainedWeights) {
        return adapter.tensors();
    }
}
