package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.adalora.AdaLoraConfig;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraInit;
import org.tribuopeft.adapters.lora.PissaInit;
import org.tribuopeft.adapters.method.LowRankConfig;
import org.tribuopeft.adapters.method.MethodKind;
import org.tribuopeft.adapters.method.TargetSelection;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes an adapter as a Hugging Face PEFT folder ({@code adapter_config.json} and
 * {@code adapter_model.safetensors} with PEFT's key names and shapes), atomically. LoRA and DoRA are
 * written as PEFT's LORA type (DoRA with {@code use_dora}); AdaLoRA as ADALORA with its factors sliced
 * to the kept rank and the {@code rank_pattern}; the head under {@code modules_to_save}. A PiSSA
 * adapter is converted to plain LoRA of rank 2r (as PEFT's own conversion does) so it applies to the
 * original base model.
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
     * @param pissaInitial for a PiSSA adapter, each module's initial factors (from
     *     {@link PissaInit#compute} on the original weights); ignored otherwise
     */
    public static void write(Path dir, PeftAdapter adapter, PeftKeyStyle style, Map<String, PissaInit.Factors> pissaInitial)
            throws IOException {
        write(dir, adapter, style, pissaInitial, Map.of(), false);
    }

    /**
     * Writes the folder with extra text files beside PEFT's two (such as a sidecar), all in one atomic step.
     *
     * @param dir the folder to create or replace
     * @param adapter the adapter
     * @param style the key prefix to use
     * @param pissaInitial as in {@link #write(Path, PeftAdapter, PeftKeyStyle, Map)}
     * @param extraFiles more files for the folder, name to UTF-8 content
     * @param overwrite whether to write into a folder that also holds files this library did not write
     *     (they are kept; see {@link AtomicFiles#writeFolder(Path, AtomicFiles.FolderWriter, boolean)})
     */
    public static void write(Path dir, PeftAdapter adapter, PeftKeyStyle style, Map<String, PissaInit.Factors> pissaInitial,
                             Map<String, String> extraFiles, boolean overwrite) throws IOException {
        if (!(adapter.method() instanceof LowRankConfig cfg)) {
            throw new IllegalArgumentException("full fine-tuning has no PEFT adapter; save the fine-tuned encoder as a "
                    + "Hugging Face model folder instead");
        }
        boolean pissa = cfg instanceof LoraConfig l && l.init() == LoraInit.PISSA;
        if (pissa && (pissaInitial == null || pissaInitial.isEmpty())) {
            throw new IllegalArgumentException("a PiSSA adapter needs its initial factors to be converted to LoRA for "
                    + "PEFT; pass them from PissaInit.compute on the original base weights");
        }
        Set<String> adapted = adaptedModules(adapter);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : adapter.tensors().entrySet()) {
            String name = e.getKey();
            HostTensor t = e.getValue();
            if (name.startsWith("classifier.")) {
                out.put(PeftKeyStyle.HEAD_PREFIX + name, t);
                continue;
            }
            String module = moduleOf(name);
            String param = name.substring(module.length() + 1);
            if (cfg instanceof AdaLoraConfig && adapter.rankMasks().containsKey(module)) {
                t = slice(t, param, adapter.rankMasks().get(module));
            }
            if (pissa && pissaInitial.containsKey(module)) {
                PissaInit.Factors f = pissaInitial.get(module);
                if (param.equals("lora_A.weight")) {
                    t = concatRows(t, f.a());
                } else if (param.equals("lora_B.weight")) {
                    t = concatColumns(t, negate(f.b()));
                }
            }
            // PEFT wraps an adapted Linear, so its bias lives under base_layer; other biases keep their names
            String key = param.equals("bias") && adapted.contains(module) ? module + ".base_layer.bias" : name;
            out.put(style.encoderPrefix() + key, t);
        }
        ObjectNode config = config(adapter, cfg, style, pissa);
        AtomicFiles.writeFolder(dir, tmp -> {
            Files.writeString(tmp.resolve(CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            SafetensorsWriter.write(tmp.resolve(WEIGHTS), out, Map.of());
            for (Map.Entry<String, String> extra : extraFiles.entrySet()) {
                Files.writeString(tmp.resolve(extra.getKey()), extra.getValue());
            }
        }, overwrite);
    }

    /** The module part of a parameter name, e.g. {@code encoder.layer.0.attention.self.query}. */
    static String moduleOf(String name) {
        for (String suffix : new String[] {".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector", ".lora_A",
            ".lora_B", ".lora_E", ".bias", ".weight"}) {
            if (name.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        throw new IllegalArgumentException("not a parameter name: " + name);
    }

    private static ObjectNode config(PeftAdapter adapter, LowRankConfig cfg, PeftKeyStyle style, boolean pissa) {
        ObjectNode c = JSON.createObjectNode();
        boolean ada = cfg instanceof AdaLoraConfig;
        c.put("peft_type", ada ? "ADALORA" : "LORA");
        c.put("task_type", style.taskType());
        c.put("base_model_name_or_path", adapter.baseModelName());
        c.put("inference_mode", true);
        putTargets(c, cfg, adaptedModules(adapter), style);
        c.put("lora_dropout", cfg.dropout());
        c.put("bias", cfg.bias().peftName());
        c.put("fan_in_fan_out", false);
        c.put("use_dora", cfg.kind() == MethodKind.DORA);
        ObjectNode alphaPattern = c.putObject("alpha_pattern");
        ArrayNode save = c.putArray("modules_to_save");
        if (adapter.tensors().keySet().stream().anyMatch(k -> k.startsWith("classifier."))) {
            save.add("classifier");
        }
        if (cfg instanceof LoraConfig l) {
            c.put("r", exportedRank(l.rank(), pissa));
            putNumber(c, "lora_alpha", exportedAlpha(l, cfg.alpha(), pissa));
            c.put("use_rslora", l.useRslora());
            if (l.init() == LoraInit.KAIMING || pissa) {
                c.put("init_lora_weights", true);
            } else {
                c.put("init_lora_weights", l.init().peftValue());
            }
            ObjectNode rankPattern = c.putObject("rank_pattern");
            l.rankPattern().entries().forEach((k, v) -> rankPattern.put(peftPatternKey(k, style), exportedRank(v, pissa)));
            l.alphaPattern().entries().forEach((k, v) -> putNumber(alphaPattern, peftPatternKey(k, style),
                    exportedAlpha(l, v, pissa)));
        } else {
            AdaLoraConfig a = (AdaLoraConfig) cfg;
            c.put("r", a.targetR());
            putNumber(c, "lora_alpha", cfg.alpha());
            c.put("use_rslora", false);
            c.put("init_lora_weights", true);
            c.put("init_r", a.initR());
            c.put("target_r", a.targetR());
            c.put("tinit", a.tinit());
            c.put("tfinal", a.tfinal());
            c.put("deltaT", a.deltaT());
            c.put("beta1", a.beta1());
            c.put("beta2", a.beta2());
            c.put("orth_reg_weight", a.orthRegWeight());
            // PEFT requires a positive total_step; ours may be 0 ("the run's step count"), resolved in training
            int total = a.totalStep() > 0 ? a.totalStep() : adapter.adaLoraTotalStep();
            if (total <= 0) {
                throw new IllegalArgumentException("AdaLoRA's total_step is unknown (AdaLoraConfig.totalStep is 0 and no "
                        + "trained step count was given); PEFT refuses an ADALORA adapter_config.json without a positive "
                        + "total_step, so set totalStep or pass the run's step count in PeftAdapter");
            }
            c.put("total_step", total);
            ObjectNode pattern = c.putObject("rank_pattern");
            new TreeMap<>(adapter.rankMasks()).forEach((module, mask) -> {
                // PEFT names rank_pattern entries relative to the wrapped model (no base_model.model. prefix)
                ArrayNode bits = pattern.putArray(style.modulePrefix() + module + ".lora_E");
                for (boolean k : mask) {
                    bits.add(k);
                }
            });
        }
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

    /** The modules that hold adapter factors, in name order. */
    private static Set<String> adaptedModules(PeftAdapter adapter) {
        Set<String> adapted = new TreeSet<>();
        adapter.tensors().keySet().stream().filter(k -> k.contains(".lora_")).forEach(k -> adapted.add(moduleOf(k)));
        return adapted;
    }

    /**
     * Writes {@code target_modules}, {@code layers_to_transform} and {@code layers_pattern} with PEFT's types:
     * a list holds module names matched as suffixes, a string is either {@code all-linear} or a regular
     * expression over the whole module name (PEFT reads the list {@code ["all-linear"]} as a module name and
     * finds none). PEFT refuses layers_to_transform beside a string, so a regex or all-linear restricted to
     * some layers is written as the list of the modules it selected.
     */
    private static void putTargets(ObjectNode c, LowRankConfig cfg, Set<String> adapted, PeftKeyStyle style) {
        boolean allLinear = cfg.targetRegex().isEmpty() && cfg.targetModules().equals(List.of(TargetSelection.ALL_LINEAR));
        boolean stringForm = !cfg.targetRegex().isEmpty() || allLinear;
        if (stringForm && !cfg.layersToTransform().isEmpty()) {
            ArrayNode targets = c.putArray("target_modules");
            adapted.forEach(targets::add);
        } else if (allLinear) {
            c.put("target_modules", TargetSelection.ALL_LINEAR);
        } else if (!cfg.targetRegex().isEmpty()) {
            c.put("target_modules", peftRegex(cfg.targetRegex(), style));
        } else {
            ArrayNode targets = c.putArray("target_modules");
            cfg.targetModules().forEach(targets::add);
        }
        if (stringForm || cfg.layersToTransform().isEmpty()) {
            c.putNull("layers_to_transform");
            c.putNull("layers_pattern");
        } else {
            ArrayNode layers = c.putArray("layers_to_transform");
            cfg.layersToTransform().forEach(layers::add);
            c.put("layers_pattern", "layer");
        }
    }

    /**
     * Our regex is over names that start at {@code encoder.}; PEFT matches it against the wrapped model's full
     * module names, which start with {@code bert.} in a sequence classifier, so the prefix is made optional there.
     */
    static String peftRegex(String regex, PeftKeyStyle style) {
        String prefix = style.modulePrefix();
        // Python's re has no \\Q..\\E quoting; module prefixes hold only letters and dots
        return prefix.isEmpty() ? regex : "(?:" + prefix.replace(".", "\\.") + ")?(?:" + regex + ")";
    }

    /**
     * A rank_pattern / alpha_pattern key as PEFT matches it ({@code (.*\.)?(key)$} from the start of the full
     * module name): a key anchored with {@code ^} at our {@code encoder.} names would match nothing under a
     * sequence classifier's {@code bert.} prefix, so the prefix is made optional there.
     */
    static String peftPatternKey(String key, PeftKeyStyle style) {
        String prefix = style.modulePrefix();
        return key.startsWith("^") && !prefix.isEmpty()
                ? "^(?:" + prefix.replace(".", "\\.") + ")?" + key.substring(1) : key;
    }

    /** PEFT types lora_alpha as an int: a whole number is written as one, anything else stays a float. */
    private static void putNumber(ObjectNode node, String key, double value) {
        if (value == Math.rint(value) && Math.abs(value) < Integer.MAX_VALUE) {
            node.put(key, (int) value);
        } else {
            node.put(key, value);
        }
    }

    /** A rank as written: PiSSA is exported as a plain LoRA of twice the rank. */
    private static int exportedRank(int rank, boolean pissa) {
        return pissa ? 2 * rank : rank;
    }

    /** An alpha as written: for PiSSA's rank-2r export, rescaled so that alpha/r (or alpha/√r) is unchanged. */
    private static double exportedAlpha(LoraConfig l, double alpha, boolean pissa) {
        if (!pissa) {
            return alpha;
        }
        return l.useRslora() ? alpha * Math.sqrt(2) : 2 * alpha;
    }

    private static HostTensor slice(HostTensor t, String param, boolean[] keep) {
        int kept = 0;
        for (boolean k : keep) {
            kept += k ? 1 : 0;
        }
        float[] src = t.data();
        if (param.equals("lora_B")) {
            int rows = (int) t.dim(0);
            int cols = (int) t.dim(1);
            float[] dst = new float[rows * kept];
            for (int i = 0; i < rows; i++) {
                int c = 0;
                for (int j = 0; j < cols; j++) {
                    if (keep[j]) {
                        dst[i * kept + c++] = src[i * cols + j];
                    }
                }
            }
            return new HostTensor(new long[] {rows, kept}, dst);
        }
        int width = (int) t.dim(1);
        float[] dst = new float[kept * width];
        int r = 0;
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                System.arraycopy(src, i * width, dst, r++ * width, width);
            }
        }
        return new HostTensor(new long[] {kept, width}, dst);
    }

    private static HostTensor concatRows(HostTensor top, HostTensor bottom) {
        float[] d = new float[top.data().length + bottom.data().length];
        System.arraycopy(top.data(), 0, d, 0, top.data().length);
        System.arraycopy(bottom.data(), 0, d, top.data().length, bottom.data().length);
        return new HostTensor(new long[] {top.dim(0) + bottom.dim(0), top.dim(1)}, d);
    }

    private static HostTensor concatColumns(HostTensor left, HostTensor right) {
        int rows = (int) left.dim(0);
        int a = (int) left.dim(1);
        int b = (int) right.dim(1);
        float[] d = new float[rows * (a + b)];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(left.data(), i * a, d, i * (a + b), a);
            System.arraycopy(right.data(), i * b, d, i * (a + b) + a, b);
        }
        return new HostTensor(new long[] {rows, a + b}, d);
    }

    private static HostTensor negate(HostTensor t) {
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] = -d[i];
        }
        return new HostTensor(t.shape(), d);
    }
}
