package org.tribuopeft.adapters.prefix;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.TrainingHook;
import org.tribuopeft.adapters.peft.PromptLearningPeftForm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Prefix tuning (Li and Liang 2021, PEFT's {@code PREFIX_TUNING}): trainable keys and values that every attention
 * layer sees before the input's own ({@code numVirtualTokens} × layers × 2 × hidden); the backbone stays frozen.
 * With {@code prefixProjection} they are produced during training by PEFT's two-layer projection of
 * {@code numVirtualTokens} × hidden embeddings, and saved as the resulting keys and values, as PEFT saves them.
 */
public class PrefixTuningConfig implements AdapterMethod {
    /**
     * The trained keys and values, [numVirtualTokens, layers, 2, heads, headSize] (PEFT's view of its saved table
     * [numVirtualTokens, layers·2·hidden]), under PEFT's saved key.
     */
    public static final String PROMPT_EMBEDDINGS = PromptLearningPeftForm.PROMPT_EMBEDDINGS;
    /**
     * The projection's tensors, as PEFT names them inside its prefix encoder: embeddings [n, hidden], first Linear
     * [encoderHidden, hidden] and its bias, second Linear [layers·2·hidden, encoderHidden] and its bias
     * [layers, 2, heads, headSize].
     */
    public static final List<String> PROJECTION_NAMES = List.of("prefix_encoder.embedding.weight",
            "prefix_encoder.transform.0.weight", "prefix_encoder.transform.0.bias", "prefix_encoder.transform.2.weight",
            "prefix_encoder.transform.2.bias");

    @Config(description = "Number of prefix positions every attention layer sees before the input (PEFT "
            + "num_virtual_tokens); they take positions from the model's maximum length.")
    private int numVirtualTokens = 20;

    @Config(description = "Whether the prefix is produced by PEFT's two-layer projection (Linear, tanh, Linear) while "
            + "training (PEFT prefix_projection); the saved adapter holds the resulting keys and values either way.")
    private boolean prefixProjection = false;

    @Config(description = "Width of the projection's middle layer (PEFT encoder_hidden_size); 0 means the "
            + "backbone's hidden size. Only used with prefixProjection.")
    private int encoderHiddenSize = 0;

    /** For OLCUT. */
    private PrefixTuningConfig() { }

    /**
     * Prefix tuning.
     *
     * @param numVirtualTokens prefix positions, at least 1
     * @param prefixProjection whether to train through PEFT's projection
     * @param encoderHiddenSize the projection's middle width, 0 for the backbone's hidden size
     */
    public PrefixTuningConfig(int numVirtualTokens, boolean prefixProjection, int encoderHiddenSize) {
        this.numVirtualTokens = numVirtualTokens;
        this.prefixProjection = prefixProjection;
        this.encoderHiddenSize = encoderHiddenSize;
        postConfig();
    }

    @Override
    public void postConfig() {
        if (numVirtualTokens <= 0) {
            throw new PropertyException("", "numVirtualTokens", "numVirtualTokens must be at least 1, found "
                    + numVirtualTokens);
        }
        if (encoderHiddenSize < 0) {
            throw new PropertyException("", "encoderHiddenSize", "encoderHiddenSize must be 0 (the hidden size) or "
                    + "positive, found " + encoderHiddenSize);
        }
    }

    /** Prefix positions per layer. */
    public int numVirtualTokens() {
        return numVirtualTokens;
    }

    /** Whether training goes through PEFT's projection. */
    public boolean prefixProjection() {
        return prefixProjection;
    }

    /** The projection's middle width for a backbone of {@code hidden}. */
    public int encoderHiddenSize(int hidden) {
        return encoderHiddenSize == 0 ? hidden : encoderHiddenSize;
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng) {
        int hidden = encoder.config().hiddenSize();
        int layers = encoder.config().numLayers();
        int heads = encoder.config().numHeads();
        int width = layers * 2 * hidden;
        NDManager manager = encoder.baseParameters().get("embeddings.word_embeddings.weight").getArray().getManager();
        Map<String, NDArray> init = new LinkedHashMap<>();
        // PEFT's torch.nn.Embedding starts N(0, 1); its torch.nn.Linear weights and biases U(-1/sqrt(in), 1/sqrt(in))
        if (prefixProjection) {
            int middle = encoderHiddenSize(hidden);
            init.put(PROJECTION_NAMES.get(0), LoraConfig.gaussian(manager, numVirtualTokens, hidden, 1.0, rng));
            init.put(PROJECTION_NAMES.get(1), LoraConfig.uniform(manager, middle, hidden, 1 / Math.sqrt(hidden), rng));
            init.put(PROJECTION_NAMES.get(2), LoraConfig.uniform(manager, 1, middle, 1 / Math.sqrt(hidden), rng)
                    .reshape(middle));
            init.put(PROJECTION_NAMES.get(3), LoraConfig.uniform(manager, width, middle, 1 / Math.sqrt(middle), rng));
            init.put(PROJECTION_NAMES.get(4), LoraConfig.uniform(manager, 1, width, 1 / Math.sqrt(middle), rng)
                    .reshape(layers, 2, heads, hidden / heads));
        } else {
            init.put(PROMPT_EMBEDDINGS, LoraConfig.gaussian(manager, numVirtualTokens, width, 1.0, rng)
                    .reshape(numVirtualTokens, layers, 2, heads, hidden / heads));
        }
        PrefixEncoder prefix = new PrefixEncoder(layers, hidden, init);
        encoder.setAttentionPrefix(prefix);
        prefix.parameters().values().forEach(p -> p.freeze(false));
        return new AdaptedEncoder(encoder, this, Map.of(), prefix.parameters(), TrainingHook.NONE);
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "method");
    }

    @Override
    public String toString() {
        return "prefix(numVirtualTokens=" + numVirtualTokens + (prefixProjection ? ", projection "
                + (encoderHiddenSize == 0 ? "hidden" : Integer.toString(encoderHiddenSize)) : "") + ")";
    }
}
