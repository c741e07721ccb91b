package org.tribuopeft.adapters.peft;

import com.fasterxml.jackson.databind.JsonNode;
import org.tribuopeft.adapters.io.ModelFileException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What PEFT's prompt-learning folders share (PROMPT_TUNING, PREFIX_TUNING): one tensor under the bare key
 * {@code prompt_embeddings}, the head under {@code base_model.classifier} (PEFT wraps the base model directly),
 * and the {@code PromptLearningConfig} fields that say the count of virtual tokens and the base's shape.
 */
public abstract class PromptLearningPeftForm implements PeftForm {
    /** The one tensor every prompt-learning folder holds. */
    public static final String PROMPT_EMBEDDINGS = "prompt_embeddings";

    private static final Set<String> SHARED_KEYS = Set.of("peft_type", "task_type", "base_model_name_or_path",
            "revision", "inference_mode", "auto_mapping", "modules_to_save", "peft_version", "num_virtual_tokens",
            "token_dim", "num_transformer_submodules", "num_attention_heads", "num_layers");

    private final Set<String> keys;

    /**
     * @param ownKeys the config keys of the method's own PEFT config class, beyond PromptLearningConfig's
     */
    protected PromptLearningPeftForm(Set<String> ownKeys) {
        Set<String> all = new HashSet<>(SHARED_KEYS);
        all.addAll(ownKeys);
        this.keys = Set.copyOf(all);
    }

    @Override
    public String headKeyPrefix() {
        return "base_model.";
    }

    @Override
    public Set<String> configKeys() {
        return keys;
    }

    @Override
    public List<String> tensorSuffixes() {
        return List.of();
    }

    @Override
    public Map<String, String> sharedTensorKeys() {
        return Map.of(PROMPT_EMBEDDINGS, PROMPT_EMBEDDINGS);
    }

    /**
     * The folder's {@code num_virtual_tokens}, checked, after checking that it is for an encoder.
     *
     * @throws ModelFileException naming the file and the field at fault
     */
    protected static int numVirtualTokens(JsonNode config, Path file) throws ModelFileException {
        JsonNode n = LowRankPeftFields.required(config, "num_virtual_tokens", file);
        if (!n.canConvertToInt() || n.asInt() <= 0) {
            throw new ModelFileException(file, "num_virtual_tokens must be a positive whole number, found " + n);
        }
        int submodules = config.path("num_transformer_submodules").asInt(1);
        if (submodules != 1) {
            throw new ModelFileException(file, "num_transformer_submodules=" + submodules + " is for encoder-decoder "
                    + "models; a BERT encoder has 1");
        }
        return n.asInt();
    }

    /**
     * Refuses tensors other than {@code prompt_embeddings} and the head.
     *
     * @throws ModelFileException naming the file and the first stray tensor
     */
    protected void refuseOtherTensors(Map<String, ?> tensors, Path weightsFile) throws ModelFileException {
        for (String name : tensors.keySet()) {
            if (!name.equals(PROMPT_EMBEDDINGS) && !name.startsWith("classifier.")) {
                throw new ModelFileException(weightsFile, "tensor '" + name + "' is not part of a " + peftType()
                        + " adapter (only prompt_embeddings and the classifier head are)");
            }
        }
    }
}
