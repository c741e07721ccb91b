package org.tribuopeft.adapters.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.peft.LowRankPeftFields;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftForm;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA and DoRA as PEFT's {@code LORA} type ({@code use_dora} tells them apart): {@code r},
 * {@code lora_alpha}, rsLoRA, the initialisation and the rank/alpha patterns; tensors {@code lora_A.weight}
 * [r, in], {@code lora_B.weight} [out, r] and DoRA's {@code lora_magnitude_vector} [out]. A PiSSA adapter
 * is written as plain LoRA of rank 2r, as PEFT's own conversion does, so it applies to the original base.
 */
public final class LoraPeftForm implements PeftForm {
    /** The keys of PEFT's LoraConfig (0.21) that this form understands or may ignore safely. */
    public static final Set<String> CONFIG_KEYS = keys();
    private final boolean dora;

    /**
     * The form of LoRA or of DoRA.
     *
     * @param dora true for DoRA
     */
    public LoraPeftForm(boolean dora) {
        this.dora = dora;
    }

    private static Set<String> keys() {
        Set<String> k = new HashSet<>(LowRankPeftFields.SHARED_KEYS);
        k.addAll(List.of("lora_alpha", "lora_dropout", "use_rslora", "use_dora", "init_lora_weights", "rank_pattern",
                "alpha_pattern", "megatron_config", "megatron_core", "loftq_config", "eva_config", "corda_config",
                "layer_replication", "lora_bias", "trainable_token_indices", "runtime_config", "target_parameters",
                "use_qalora", "qalora_group_size", "ensure_weight_tying", "alora_invocation_tokens", "use_bdlora",
                "arrow_config", "kasa_config", "lora_ga_config", "monteclora_config", "velora_config"));
        return Set.copyOf(k);
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public boolean reads(JsonNode config) {
        return config.path("use_dora").asBoolean(false) == dora;
    }

    @Override
    public Set<String> configKeys() {
        return CONFIG_KEYS;
    }

    @Override
    public List<String> tensorSuffixes() {
        return dora ? List.of(".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector")
                : List.of(".lora_A.weight", ".lora_B.weight");
    }

    @Override
    public AdapterMethod readConfig(JsonNode cfg, Path file) throws ModelFileException {
        Map<String, String> props = LowRankPeftFields.readShared(cfg, file, "lora_alpha", "lora_dropout");
        props.put("rank", LowRankPeftFields.required(cfg, "r", file).asText());
        props.put("useRslora", Boolean.toString(cfg.path("use_rslora").asBoolean(false)));
        JsonNode init = cfg.get("init_lora_weights");
        String initValue = init == null || init.isBoolean() ? "true" : init.asText();
        props.put("init", switch (initValue) {
            case "true", "false" -> LoraInit.KAIMING.name();
            case "gaussian" -> LoraInit.GAUSSIAN.name();
            case "pissa" -> LoraInit.PISSA.name();
            default -> throw new ModelFileException(file, "init_lora_weights '" + initValue + "' is not supported");
        });
        Map<String, Map<String, String>> patterns = new LinkedHashMap<>();
        patterns.put("rankPattern", LowRankPeftFields.pattern(cfg, "rank_pattern", file));
        patterns.put("alphaPattern", LowRankPeftFields.pattern(cfg, "alpha_pattern", file));
        return (AdapterMethod) LowRankPeftFields.instantiate(dora ? DoraConfig.class : LoraConfig.class, props, patterns,
                file);
    }

    @Override
    public Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode config, PeftKeyStyle style,
                                              Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                              Path weightsFile) throws ModelFileException {
        LoraConfig l = (LoraConfig) method;
        List<String> modules = LowRankPeftFields.selectModules(l, base, configFile);
        for (String module : modules) {
            long[] io = LowRankPeftFields.inOut(module, base);
            int r = l.rank(module);
            LowRankPeftFields.expect(tensors, weightsFile, module + ".lora_A.weight", new long[] {r, io[0]});
            LowRankPeftFields.expect(tensors, weightsFile, module + ".lora_B.weight", new long[] {io[1], r});
            if (dora) {
                LowRankPeftFields.expect(tensors, weightsFile, module + ".lora_magnitude_vector", new long[] {io[1]});
            }
        }
        LowRankPeftFields.refuseUnselected(tensors, modules, ".lora_", weightsFile);
        return Map.of();
    }

    /**
     * PEFT ignores pattern keys that select no adapted module; they are dropped here too, with a note (a new
     * config: configs are not changed in place), and keys that give one module two different values are refused.
     */
    @Override
    public AdapterMethod fitToBase(AdapterMethod method, BertConfig base, Path file) throws ModelFileException {
        LoraConfig l = (LoraConfig) method;
        List<String> modules = LowRankPeftFields.selectModules(l, base, file);
        LoraConfig kept = l;
        List<String> unusedRanks = l.rankPattern().keysSelectingNone(modules);
        List<String> unusedAlphas = l.alphaPattern().keysSelectingNone(modules);
        if (!unusedRanks.isEmpty() || !unusedAlphas.isEmpty()) {
            System.err.println("NOTE: " + file + " has rank_pattern/alpha_pattern keys that select no adapted module "
                    + "(ignored, as PEFT does): " + unusedRanks + " " + unusedAlphas);
            kept = l.withPatterns(l.rankPattern().without(unusedRanks), l.alphaPattern().without(unusedAlphas));
        }
        try {
            kept.checkSelection(modules);
        } catch (PropertyException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
        return kept;
    }

    @Override
    public void writeConfig(PeftAdapter adapter, ObjectNode c, PeftKeyStyle style, Set<String> adaptedModules) {
        LoraConfig l = (LoraConfig) adapter.method();
        boolean pissa = l.init() == LoraInit.PISSA;
        LowRankPeftFields.writeShared(c, l, adaptedModules, style, "lora_dropout");
        c.put("use_dora", dora);
        c.put("r", exportedRank(l.rank(), pissa));
        LowRankPeftFields.putNumber(c, "lora_alpha", exportedAlpha(l, l.alpha(), pissa));
        c.put("use_rslora", l.useRslora());
        if (l.init() == LoraInit.KAIMING || pissa) {
            c.put("init_lora_weights", true);
        } else {
            c.put("init_lora_weights", l.init().peftValue());
        }
        ObjectNode rankPattern = c.putObject("rank_pattern");
        ObjectNode alphaPattern = c.putObject("alpha_pattern");
        l.rankPattern().entries().forEach((k, v) -> rankPattern.put(LowRankPeftFields.peftPatternKey(k, style),
                exportedRank(v, pissa)));
        l.alphaPattern().entries().forEach((k, v) -> LowRankPeftFields.putNumber(alphaPattern,
                LowRankPeftFields.peftPatternKey(k, style), exportedAlpha(l, v, pissa)));
    }

    @Override
    public Map<String, HostTensor> writeTensors(PeftAdapter adapter, Map<String, HostTensor> pretrainedWeights) {
        LoraConfig l = (LoraConfig) adapter.method();
        if (l.init() != LoraInit.PISSA) {
            return adapter.tensors();
        }
        Map<String, HostTensor> out = new LinkedHashMap<>(adapter.tensors());
        for (String name : adapter.tensors().keySet()) {
            if (!name.endsWith(".lora_A.weight")) {
                continue;
            }
            String module = name.substring(0, name.length() - ".lora_A.weight".length());
            HostTensor original = pretrainedWeights.get(module + ".weight");
            if (original == null) {
                throw new IllegalArgumentException("a PiSSA adapter is converted to LoRA for PEFT from the original base "
                        + "weights, but none was given for " + module + "; pass the base model's weights");
            }
            PissaInit.Factors f = l.pissaFactors(original, module);
            out.put(name, PissaInit.concatRows(out.get(name), f.a()));
            String bName = module + ".lora_B.weight";
            out.put(bName, PissaInit.concatColumns(out.get(bName), PissaInit.negate(f.b())));
        }
        return out;
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
}
