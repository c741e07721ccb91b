package org.tribuopeft.adapters.vera;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.BiasMode;
import org.tribuopeft.adapters.peft.LowRankPeftFields;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PeftForm;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * VeRA as PEFT's {@code VERA} type: {@code r}, {@code d_initial}, {@code vera_dropout}, bias
 * ({@code vera_only} is {@link BiasMode#LORA_ONLY}); per module {@code vera_lambda_b} [out] and
 * {@code vera_lambda_d} [r]; the shared projections as {@code base_model.vera_A} [r, max in] and
 * {@code base_model.vera_B} [max out, r]. Folders are written with {@code save_projection: true}; a folder
 * without its projections is refused, since PEFT would regenerate them with torch's generator.
 */
public final class VeraPeftForm implements PeftForm {
    private static final Set<String> KEYS = keys();
    private static final String VERA_ONLY = "vera_only";

    /** The form. */
    public VeraPeftForm() { }

    private static Set<String> keys() {
        Set<String> k = new HashSet<>(LowRankPeftFields.SHARED_KEYS);
        k.addAll(List.of("projection_prng_key", "save_projection", "vera_dropout", "d_initial", "init_weights"));
        return Set.copyOf(k);
    }

    @Override
    public String peftType() {
        return "VERA";
    }

    @Override
    public Set<String> configKeys() {
        return KEYS;
    }

    @Override
    public List<String> tensorSuffixes() {
        return List.of(".vera_lambda_b", ".vera_lambda_d");
    }

    @Override
    public Map<String, String> sharedTensorKeys() {
        return Map.of("base_model.vera_A", VeraConfig.VERA_A, "base_model.vera_B", VeraConfig.VERA_B);
    }

    @Override
    public AdapterMethod readConfig(JsonNode cfg, Path file) throws ModelFileException {
        if (!cfg.path("save_projection").asBoolean(true)) {
            throw new ModelFileException(file, "save_projection=false: the folder does not hold VeRA's projections "
                    + "vera_A/vera_B, and PEFT would regenerate them with torch's random generator from "
                    + "projection_prng_key, which cannot be reproduced here; save the adapter again in PEFT with "
                    + "VeraConfig(save_projection=True)");
        }
        ObjectNode copy = cfg.deepCopy();
        if (VERA_ONLY.equals(cfg.path("bias").asText())) {
            copy.put("bias", BiasMode.LORA_ONLY.peftName());
        }
        Map<String, String> props = LowRankPeftFields.readShared(copy, file, null, "vera_dropout");
        props.put("rank", LowRankPeftFields.required(cfg, "r", file).asText());
        props.put("dInitial", cfg.path("d_initial").asText("0.1"));
        return (AdapterMethod) LowRankPeftFields.instantiate(VeraConfig.class, props, Map.of(), file);
    }

    @Override
    public Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode config, PeftKeyStyle style,
                                              Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                              Path weightsFile) throws ModelFileException {
        VeraConfig v = (VeraConfig) method;
        List<String> modules = LowRankPeftFields.selectModules(v, base, configFile);
        long maxIn = 0;
        long maxOut = 0;
        for (String module : modules) {
            long[] io = LowRankPeftFields.inOut(module, base);
            maxIn = Math.max(maxIn, io[0]);
            maxOut = Math.max(maxOut, io[1]);
            LowRankPeftFields.expect(tensors, weightsFile, module + ".vera_lambda_b", new long[] {io[1]});
            LowRankPeftFields.expect(tensors, weightsFile, module + ".vera_lambda_d", new long[] {v.rank()});
        }
        if (!tensors.containsKey(VeraConfig.VERA_A) || !tensors.containsKey(VeraConfig.VERA_B)) {
            throw new ModelFileException(weightsFile, "has no VeRA projections (base_model.vera_A, base_model.vera_B); "
                    + "they are needed because torch's random generator cannot be reproduced here: save the adapter "
                    + "in PEFT with VeraConfig(save_projection=True)");
        }
        LowRankPeftFields.expect(tensors, weightsFile, VeraConfig.VERA_A, new long[] {v.rank(), maxIn});
        LowRankPeftFields.expect(tensors, weightsFile, VeraConfig.VERA_B, new long[] {maxOut, v.rank()});
        LowRankPeftFields.refuseUnselected(tensors, modules, ".vera_lambda_", weightsFile);
        return Map.of();
    }

    @Override
    public void writeConfig(PeftAdapter adapter, ObjectNode c, PeftKeyStyle style, Set<String> adaptedModules) {
        VeraConfig v = (VeraConfig) adapter.method();
        LowRankPeftFields.writeShared(c, v, adaptedModules, style, "vera_dropout");
        if (v.bias() == BiasMode.LORA_ONLY) {
            c.put("bias", VERA_ONLY);
        }
        c.put("r", v.rank());
        c.put("d_initial", v.dInitial());
        c.put("save_projection", true);
        c.put("projection_prng_key", 0);
        c.put("init_weights", true);
    }
}
