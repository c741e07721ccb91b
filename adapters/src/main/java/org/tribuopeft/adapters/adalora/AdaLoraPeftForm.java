package org.tribuopeft.adapters.adalora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.lora.LoraPeftForm;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.peft.LowRankPeftFields;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftForm;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * AdaLoRA as PEFT's {@code ADALORA} type: the budget schedule keys, {@code lora_A} [kept, in],
 * {@code lora_E} [kept, 1] and {@code lora_B} [out, kept] sliced to the kept triplets, and the kept-triplet
 * masks as {@code rank_pattern}. Read back, the factors are scattered to the full initial rank.
 */
public final class AdaLoraPeftForm implements PeftForm {
    private static final Set<String> KEYS = keys();

    /** The form. */
    public AdaLoraPeftForm() { }

    /** PEFT's AdaLoraConfig is a LoraConfig with the budget schedule's keys added. */
    private static Set<String> keys() {
        Set<String> k = new HashSet<>(LoraPeftForm.CONFIG_KEYS);
        k.addAll(List.of("init_r", "target_r", "tinit", "tfinal", "deltaT", "beta1", "beta2", "orth_reg_weight",
                "total_step"));
        return Set.copyOf(k);
    }

    @Override
    public String peftType() {
        return "ADALORA";
    }

    @Override
    public Set<String> configKeys() {
        return KEYS;
    }

    @Override
    public List<String> tensorSuffixes() {
        return List.of(".lora_A", ".lora_E", ".lora_B");
    }

    @Override
    public AdapterMethod readConfig(JsonNode cfg, Path file) throws ModelFileException {
        Map<String, String> props = LowRankPeftFields.readShared(cfg, file, "lora_alpha", "lora_dropout");
        props.put("initR", LowRankPeftFields.required(cfg, "init_r", file).asText());
        props.put("targetR", LowRankPeftFields.required(cfg, "target_r", file).asText());
        for (String[] k : new String[][] {{"tinit", "tinit"}, {"tfinal", "tfinal"}, {"deltaT", "deltaT"},
            {"beta1", "beta1"}, {"beta2", "beta2"}, {"orth_reg_weight", "orthRegWeight"}, {"total_step", "totalStep"}}) {
            JsonNode v = cfg.get(k[0]);
            if (v != null && !v.isNull()) {
                props.put(k[1], v.asText());
            }
        }
        if (cfg.path("alpha_pattern").size() > 0) {
            System.err.println("NOTE: " + file + " has an alpha_pattern, which PEFT's AdaLoRA does not use (every layer "
                    + "gets lora_alpha); ignored here too");
        }
        return (AdapterMethod) LowRankPeftFields.instantiate(AdaLoraConfig.class, props, Map.of(), file);
    }

    @Override
    public Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode cfg, PeftKeyStyle style,
                                              Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                              Path weightsFile) throws ModelFileException {
        AdaLoraConfig a = (AdaLoraConfig) method;
        List<String> modules = LowRankPeftFields.selectModules(a, base, configFile);
        Map<String, boolean[]> masks = rankPattern(cfg, style, modules, a.initR(), configFile);
        for (String module : modules) {
            long[] io = LowRankPeftFields.inOut(module, base);
            boolean[] keep = masks.get(module);
            int kept = 0;
            for (boolean k : keep) {
                kept += k ? 1 : 0;
            }
            expand(tensors, weightsFile, module + ".lora_A", new long[] {kept, io[0]}, keep, false);
            expand(tensors, weightsFile, module + ".lora_E", new long[] {kept, 1}, keep, false);
            expand(tensors, weightsFile, module + ".lora_B", new long[] {io[1], kept}, keep, true);
        }
        LowRankPeftFields.refuseUnselected(tensors, modules, ".lora_", weightsFile);
        return masks;
    }

    @Override
    public int scheduledSteps(JsonNode cfg) {
        return cfg.path("total_step").isInt() ? cfg.get("total_step").asInt() : 0;
    }

    @Override
    public void writeConfig(PeftAdapter adapter, ObjectNode c, PeftKeyStyle style, Set<String> adaptedModules) {
        AdaLoraConfig a = (AdaLoraConfig) adapter.method();
        LowRankPeftFields.writeShared(c, a, adaptedModules, style, "lora_dropout");
        c.put("use_dora", false);
        c.putObject("alpha_pattern");
        c.put("r", a.targetR());
        LowRankPeftFields.putNumber(c, "lora_alpha", a.alpha());
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

    @Override
    public Map<String, HostTensor> writeTensors(PeftAdapter adapter, Map<String, HostTensor> pretrainedWeights) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        adapter.tensors().forEach((name, t) -> {
            String suffix = tensorSuffixes().stream().filter(name::endsWith).findFirst().orElse(null);
            String module = suffix == null ? null : name.substring(0, name.length() - suffix.length());
            boolean[] keep = module == null ? null : adapter.rankMasks().get(module);
            out.put(name, keep == null ? t : slice(t, suffix.substring(1), keep));
        });
        return out;
    }

    /** The kept-triplet mask of each module from rank_pattern (all kept when a module has no entry). */
    private static Map<String, boolean[]> rankPattern(JsonNode cfg, PeftKeyStyle style, List<String> modules, int initR,
                                                      Path file) throws ModelFileException {
        JsonNode pattern = cfg.get("rank_pattern");
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        for (String module : modules) {
            JsonNode bits = null;
            if (pattern != null && pattern.isObject()) {
                for (String key : new String[] {style.modulePrefix() + module + ".lora_E",
                    style.modulePrefix() + module + ".lora_E.default", style.encoderPrefix() + module + ".lora_E"}) {
                    if (pattern.has(key)) {
                        bits = pattern.get(key);
                    }
                }
            }
            boolean[] keep = new boolean[initR];
            if (bits == null) {
                Arrays.fill(keep, true);
            } else {
                if (bits.size() != initR) {
                    throw new ModelFileException(file, "rank_pattern for " + module + " has " + bits.size()
                            + " entries but init_r is " + initR);
                }
                for (int i = 0; i < initR; i++) {
                    keep[i] = bits.get(i).asBoolean();
                }
            }
            masks.put(module, keep);
        }
        return masks;
    }

    /** Checks a sliced AdaLoRA factor and scatters it back to the full initial rank (pruned rows/columns zero). */
    private static void expand(Map<String, HostTensor> tensors, Path file, String name, long[] shape, boolean[] keep,
                               boolean columns) throws ModelFileException {
        LowRankPeftFields.expect(tensors, file, name, shape);
        HostTensor t = tensors.get(name);
        int r = keep.length;
        float[] src = t.data();
        if (columns) {
            int rows = (int) shape[0];
            int kept = (int) shape[1];
            float[] dst = new float[rows * r];
            for (int i = 0; i < rows; i++) {
                int c = 0;
                for (int j = 0; j < r; j++) {
                    if (keep[j]) {
                        dst[i * r + j] = src[i * kept + c++];
                    }
                }
            }
            tensors.put(name, new HostTensor(new long[] {rows, r}, dst));
        } else {
            int width = (int) shape[1];
            float[] dst = new float[r * width];
            int c = 0;
            for (int i = 0; i < r; i++) {
                if (keep[i]) {
                    System.arraycopy(src, c++ * width, dst, i * width, width);
                }
            }
            tensors.put(name, new HostTensor(new long[] {r, width}, dst));
        }
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

}
