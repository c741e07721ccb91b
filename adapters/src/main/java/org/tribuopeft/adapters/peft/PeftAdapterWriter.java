package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes an adapter as a Hugging Face PEFT folder ({@code adapter_config.json} and
 * {@code adapter_model.safetensors} with PEFT's key names and shapes), atomically. The method's
 * {@link PeftForm} (from {@link MethodRegistry}) writes its own config keys and puts its tensors in
 * PEFT's form (AdaLoRA sliced to the kept rank, PiSSA converted to plain LoRA); this class writes what
 * all methods share: the files, key prefixes, the head under {@code modules_to_save}, unknown keys kept
 * from a folder that was read.
 */
public final class PeftAdapterWriter {
    /** The config file of a PEFT folder. */
    public static final String CONFIG = "adapter_config.json";
    /** The weights file of a PEFT folder. */
    public static final String WEIGHTS = "adapter_model.safetensors";

    private static final ObjectMapper JSON = new ObjectMapper();

    private PeftAdapterWriter() {}

    /**
     * Writes the folder.
     *
     * @param dir the folder to create or replace
     * @param adapter the adapter
     * @param style the key prefix to use
     * @param pretrainedWeights the base model's original weights by name ({@code <module>.weight}), which a
     *     method that changed the base (PiSSA) needs to be converted back; may be empty for other methods
     */
    public static void write(Path dir, PeftAdapter adapter, PeftKeyStyle style, Map<String, HostTensor> pretrainedWeights)
            throws IOException {
        write(dir, adapter, style, pretrainedWeights, Map.of(), false);
    }

    /**
     * Writes the folder with extra text files beside PEFT's two (such as a sidecar), all in one atomic step.
     *
     * @param dir the folder to create or replace
     * @param adapter the adapter
     * @param style the key prefix to use
     * @param pretrainedWeights as in {@link #write(Path, PeftAdapter, PeftKeyStyle, Map)}
     * @param extraFiles more files for the folder, name to UTF-8 content
     * @param overwrite whether to write into a folder that also holds files this library did not write
     *     (they are kept; see {@link AtomicFiles#writeFolder(Path, AtomicFiles.FolderWriter, boolean)})
     */
    public static void write(Path dir, PeftAdapter adapter, PeftKeyStyle style, Map<String, HostTensor> pretrainedWeights,
                             Map<String, String> extraFiles, boolean overwrite) throws IOException {
        MethodDescriptor method = MethodRegistry.of(adapter.method());
        PeftForm form = method.peftForm().orElseThrow(() -> new IllegalArgumentException(method.name()
                + " has no PEFT adapter form; save the fine-tuned encoder as a Hugging Face model folder instead"));
        Set<String> adapted = adaptedModules(adapter, form);
        Map<String, String> sharedKeys = new LinkedHashMap<>();
        form.sharedTensorKeys().forEach((key, name) -> sharedKeys.put(name, key));
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : form.writeTensors(adapter, pretrainedWeights).entrySet()) {
            String name = e.getKey();
            HostTensor t = e.getValue();
            if (name.startsWith("classifier.")) {
                out.put(form.headKeyPrefix() + name, t);
                continue;
            }
            if (sharedKeys.containsKey(name)) {
                out.put(sharedKeys.get(name), t);
                continue;
            }
            // PEFT wraps an adapted Linear, so its bias lives under base_layer; other biases keep their names
            String module = name.endsWith(".bias") ? name.substring(0, name.length() - ".bias".length()) : null;
            String key = module != null && adapted.contains(module) ? module + ".base_layer.bias" : name;
            out.put(style.encoderPrefix() + key, t);
        }
        ObjectNode config = config(adapter, form, style, adapted);
        AtomicFiles.writeFolder(dir, tmp -> {
            Files.writeString(tmp.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            SafetensorsWriter.write(tmp.resolve(WEIGHTS), out, Map.of());
            for (Map.Entry<String, String> extra : extraFiles.entrySet()) {
                Files.writeString(tmp.resolve(extra.getKey()), extra.getValue());
            }
        }, overwrite);
    }

    private static ObjectNode config(PeftAdapter adapter, PeftForm form, PeftKeyStyle style, Set<String> adapted) {
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", form.peftType());
        c.put("task_type", style.taskType());
        c.put("base_model_name_or_path", adapter.baseModelName());
        c.put("inference_mode", true);
        ArrayNode save = c.putArray("modules_to_save");
        if (adapter.tensors().keySet().stream().anyMatch(k -> k.startsWith("classifier."))) {
            save.add("classifier");
        }
        form.writeConfig(adapter, c, style, adapted);
        adapter.unknownConfig().forEach((k, v) -> {
            if (!c.has(k)) {
                try {
                    JsonNode node = JSON.readTree(v);
                    c.set(k, node);
                } catch (IOException e) {
                    c.put(k, v);
                }
            }
        });
        return c;
    }

    /** The modules that hold the method's own tensors, in name order. */
    private static Set<String> adaptedModules(PeftAdapter adapter, PeftForm form) {
        Set<String> adapted = new TreeSet<>();
        for (String name : adapter.tensors().keySet()) {
            for (String suffix : form.tensorSuffixes()) {
                if (name.endsWith(suffix)) {
                    adapted.add(name.substring(0, name.length() - suffix.length()));
                }
            }
        }
        return adapted;
    }
}
