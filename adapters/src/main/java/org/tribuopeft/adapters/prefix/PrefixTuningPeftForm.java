package org.tribuopeft.adapters.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.peft.LowRankPeftFields;
import org.tribuopeft.adapters.peft.PeftAdapter;
import org.tribuopeft.adapters.peft.PromptLearningPeftForm;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Prefix tuning as PEFT 0.21 saves it: {@code peft_type} PREFIX_TUNING, the past keys and values under the bare
 * key {@code prompt_embeddings} [num_virtual_tokens, num_layers·2·token_dim] (the projection's output when
 * {@code prefix_projection} was on: PEFT saves the keys and values, not the projection), and a config whose
 * {@code num_layers}, {@code token_dim} and {@code num_attention_heads} must match the base model.
 */
final class PrefixTuningPeftForm extends PromptLearningPeftForm {
    PrefixTuningPeftForm() {
        super(Set.of("encoder_hidden_size", "prefix_projection", "init_weights"));
    }

    @Override
    public String peftType() {
        return "PREFIX_TUNING";
    }

    @Override
    public AdapterMethod readConfig(JsonNode config, Path file) throws ModelFileException {
        int n = numVirtualTokens(config, file);
        if (config.path("prefix_projection").asBoolean(false)) {
            System.err.println("NOTE: " + file + " was trained with prefix_projection; as in PEFT's inference mode, "
                    + "its saved keys and values load as plain prefix tuning (the projection is not saved)");
        }
        return new PrefixTuningConfig(n, false, 0);
    }

    @Override
    public Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode config, PeftKeyStyle style,
                                              Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                              Path weightsFile) throws ModelFileException {
        int n = ((PrefixTuningConfig) method).numVirtualTokens();
        requireMatch(config, "num_layers", base.numLayers(), "layer count", configFile);
        requireMatch(config, "token_dim", base.hiddenSize(), "hidden size", configFile);
        requireMatch(config, "num_attention_heads", base.numHeads(), "attention head count", configFile);
        String key = PrefixTuningConfig.PROMPT_EMBEDDINGS;
        LowRankPeftFields.expect(tensors, weightsFile, key, new long[] {n, 2L * base.numLayers() * base.hiddenSize()});
        refuseOtherTensors(tensors, weightsFile);
        HostTensor flat = tensors.get(key);
        tensors.put(key, new HostTensor(new long[] {n, base.numLayers(), 2, base.numHeads(), base.headSize()},
                flat.data()));
        return Map.of();
    }

    private static void requireMatch(JsonNode config, String field, int ours, String what, Path file)
            throws ModelFileException {
        JsonNode v = config.get(field);
        if (v != null && !v.isNull() && v.asInt() != ours) {
            throw new ModelFileException(file, field + " is " + v.asInt() + " but the base model's " + what + " is "
                    + ours + "; this prefix was trained for another base model, load it on that one");
        }
    }

    @Override
    public void writeConfig(PeftAdapter adapter, ObjectNode config, PeftKeyStyle style, Set<String> adaptedModules) {
        PrefixTuningConfig p = (PrefixTuningConfig) adapter.method();
        long[] layout = layout(adapter.tensors());
        int hidden = (int) (layout[2] * layout[3]);
        config.put("num_virtual_tokens", p.numVirtualTokens());
        config.put("token_dim", hidden);
        config.put("num_layers", layout[0]);
        config.put("num_attention_heads", layout[2]);
        config.put("num_transformer_submodules", 1);
        config.put("prefix_projection", p.prefixProjection());
        config.put("encoder_hidden_size", p.encoderHiddenSize(hidden));
        config.putNull("init_weights");
    }

    /** [layers, 2, heads, headSize] from whichever tensor the adapter trained. */
    private static long[] layout(Map<String, HostTensor> tensors) {
        HostTensor t = tensors.get(PrefixTuningConfig.PROMPT_EMBEDDINGS);
        if (t != null) {
            long[] s = t.shape();
            return new long[] {s[1], s[2], s[3], s[4]};
        }
        return tensors.get(PrefixTuningConfig.PROJECTION_NAMES.get(4)).shape();
    }

    @Override
    public Map<String, HostTensor> writeTensors(PeftAdapter adapter, Map<String, HostTensor> pretrainedWeights) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        adapter.tensors().forEach((name, t) -> {
            if (name.startsWith("classifier.")) {
                out.put(name, t);
            }
        });
        out.put(PrefixTuningConfig.PROMPT_EMBEDDINGS, PrefixProjection.keysAndValues(adapter.tensors()));
        return out;
    }
}
