package org.tribuopeft.adapters.prompt;

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
import java.util.Map;
import java.util.Set;

/**
 * Prompt tuning as PEFT 0.21 saves it: {@code peft_type} PROMPT_TUNING, the embeddings under the bare key
 * {@code prompt_embeddings} [num_virtual_tokens, token_dim], and a {@code PromptTuningConfig} whose
 * {@code token_dim}, {@code num_layers} and {@code num_attention_heads} describe the base model.
 */
final class PromptTuningPeftForm extends PromptLearningPeftForm {
    PromptTuningPeftForm() {
        super(Set.of("prompt_tuning_init", "prompt_tuning_init_text", "tokenizer_name_or_path", "tokenizer_kwargs"));
    }

    @Override
    public String peftType() {
        return "PROMPT_TUNING";
    }

    @Override
    public AdapterMethod readConfig(JsonNode config, Path file) throws ModelFileException {
        int n = numVirtualTokens(config, file);
        String init = config.path("prompt_tuning_init").asText("RANDOM");
        String text = "TEXT".equals(init) ? config.path("prompt_tuning_init_text").asText("") : "";
        return new PromptTuningConfig(n, text);
    }

    @Override
    public Map<String, boolean[]> readTensors(AdapterMethod method, JsonNode config, PeftKeyStyle style,
                                              Map<String, HostTensor> tensors, BertConfig base, Path configFile,
                                              Path weightsFile) throws ModelFileException {
        PromptTuningConfig p = (PromptTuningConfig) method;
        JsonNode dim = config.get("token_dim");
        if (dim != null && !dim.isNull() && dim.asInt() != base.hiddenSize()) {
            throw new ModelFileException(configFile, "token_dim is " + dim.asInt() + " but the base model's hidden "
                    + "size is " + base.hiddenSize() + "; this adapter was trained on another base model");
        }
        LowRankPeftFields.expect(tensors, weightsFile, PromptTuningConfig.PROMPT_EMBEDDINGS,
                new long[] {p.numVirtualTokens(), base.hiddenSize()});
        refuseOtherTensors(tensors, weightsFile);
        return Map.of();
    }

    @Override
    public void writeConfig(PeftAdapter adapter, ObjectNode config, PeftKeyStyle style, Set<String> adaptedModules) {
        PromptTuningConfig p = (PromptTuningConfig) adapter.method();
        HostTensor prompt = adapter.tensors().get(PromptTuningConfig.PROMPT_EMBEDDINGS);
        config.put("num_virtual_tokens", p.numVirtualTokens());
        config.put("token_dim", prompt.dim(1));
        config.put("num_transformer_submodules", 1);
        config.putNull("num_attention_heads");
        config.putNull("num_layers");
        config.put("prompt_tuning_init", p.initText().isEmpty() ? "RANDOM" : "TEXT");
        if (p.initText().isEmpty()) {
            config.putNull("prompt_tuning_init_text");
            config.putNull("tokenizer_name_or_path");
        } else {
            config.put("prompt_tuning_init_text", p.initText());
            config.put("tokenizer_name_or_path", adapter.baseModelName());
        }
        config.putNull("tokenizer_kwargs");
    }
}
