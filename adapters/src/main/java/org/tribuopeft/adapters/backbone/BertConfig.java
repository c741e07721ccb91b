package org.tribuopeft.adapters.backbone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.io.ModelFileException;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The architecture of a BERT-family encoder, as read from the model itself (a {@code config.json},
 * or the tensors and graph of an ONNX file). Nothing here is assumed from a model's name.
 *
 * @param vocabSize rows of the word embedding
 * @param hiddenSize width of every hidden state
 * @param numLayers number of transformer layers
 * @param numHeads attention heads per layer; must divide {@code hiddenSize}
 * @param intermediateSize width of the feed-forward layer
 * @param maxPositions rows of the position embedding (the longest input, in tokens)
 * @param typeVocabSize rows of the token-type embedding
 * @param layerNormEps the epsilon of every LayerNorm
 * @param hiddenAct the feed-forward activation
 * @param hiddenDropout dropout probability on hidden states during training
 * @param attentionDropout dropout probability on attention weights during training
 */
public record BertConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                         int maxPositions, int typeVocabSize, double layerNormEps, HiddenActivation hiddenAct,
                         double hiddenDropout, double attentionDropout) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> SUPPORTED_MODEL_TYPES = Set.of("bert");

    /** Validates the numbers; a config that fails here cannot describe a working encoder. */
    public BertConfig {
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_hidden_layers", numLayers);
        requirePositive("num_attention_heads", numHeads);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("max_position_embeddings", maxPositions);
        requirePositive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numHeads);
        }
        if (!(layerNormEps > 0 && layerNormEps < 1)) {
            throw new IllegalArgumentException("layer_norm_eps must be in (0, 1), got " + layerNormEps);
        }
        if (!(hiddenDropout >= 0 && hiddenDropout < 1) || !(attentionDropout >= 0 && attentionDropout < 1)) {
            throw new IllegalArgumentException("dropout probabilities must be in [0, 1), got hidden "
                    + hiddenDropout + ", attention " + attentionDropout);
        }
        if (hiddenAct == null) {
            throw new IllegalArgumentException("hidden_act is required");
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + value);
        }
    }

    /** Width of one attention head. */
    public int headSize() {
        return hiddenSize / numHeads;
    }

    /**
     * Reads a Hugging Face {@code config.json}.
     *
     * @throws ModelFileException naming the file and field when a field is missing, of the wrong type,
     *     or describes an architecture we do not implement
     */
    public static BertConfig read(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new ModelFileException(configJson, "does not exist", e);
        } catch (IOException e) {
            throw new ModelFileException(configJson, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(configJson, "must hold a JSON object");
        }
        String modelType = root.path("model_type").asText("bert");
        if (!SUPPORTED_MODEL_TYPES.contains(modelType)) {
            throw new ModelFileException(configJson, "model_type '" + modelType + "' is not supported; this encoder "
                    + "implements " + SUPPORTED_MODEL_TYPES);
        }
        String posType = root.path("position_embedding_type").asText("absolute");
        if (!posType.equals("absolute")) {
            throw new ModelFileException(configJson, "position_embedding_type '" + posType
                    + "' is not supported; only 'absolute' is");
        }
        String act = root.path("hidden_act").asText("gelu");
        HiddenActivation activation = HiddenActivation.fromHfName(act).orElseThrow(() -> new ModelFileException(
                configJson, "hidden_act '" + act + "' is not supported; use one of " + HiddenActivation.acceptedNames()));
        try {
            return new BertConfig(
                    requiredInt(configJson, root, "vocab_size"),
                    requiredInt(configJson, root, "hidden_size"),
                    requiredInt(configJson, root, "num_hidden_layers"),
                    requiredInt(configJson, root, "num_attention_heads"),
                    requiredInt(configJson, root, "intermediate_size"),
                    requiredInt(configJson, root, "max_position_embeddings"),
                    root.has("type_vocab_size") ? requiredInt(configJson, root, "type_vocab_size") : 2,
                    root.has("layer_norm_eps") ? requiredDouble(configJson, root, "layer_norm_eps") : 1e-12,
                    activation,
                    root.has("hidden_dropout_prob") ? requiredDouble(configJson, root, "hidden_dropout_prob") : 0.1,
                    root.has("attention_probs_dropout_prob")
                            ? requiredDouble(configJson, root, "attention_probs_dropout_prob") : 0.1);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(configJson, e.getMessage(), e);
        }
    }

    private static int requiredInt(Path file, JsonNode root, String field) throws ModelFileException {
        JsonNode n = root.get(field);
        if (n == null) {
            throw new ModelFileException(file, "required field '" + field + "' is missing");
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new ModelFileException(file, "field '" + field + "' must be an integer, found " + n);
        }
        return n.asInt();
    }

    private static double requiredDouble(Path file, JsonNode root, String field) throws ModelFileException {
        JsonNode n = root.get(field);
        if (n == null || !n.isNumber()) {
            throw new ModelFileException(file, "field '" + field + "' must be a number, found " + n);
        }
        return n.asDouble();
    }

    /** This configuration as a Hugging Face {@code config.json} object for a {@code BertModel}. */
    public ObjectNode toHfJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("BertModel");
        o.put("model_type", "bert");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("max_position_embeddings", maxPositions);
        o.put("type_vocab_size", typeVocabSize);
        o.put("layer_norm_eps", layerNormEps);
        o.put("hidden_act", hiddenAct.hfName());
        o.put("hidden_dropout_prob", hiddenDropout);
        o.put("attention_probs_dropout_prob", attentionDropout);
        o.put("position_embedding_type", "absolute");
        o.put("pad_token_id", 0);
        o.put("torch_dtype", "float32");
        return o;
    }
}
