package org.tribuopeft.adapters.prompt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.TrainingHook;
import org.tribuopeft.adapters.peft.PromptLearningPeftForm;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.logging.Logger;

/**
 * Prompt tuning (Lester et al. 2021, PEFT's {@code PROMPT_TUNING}): {@code numVirtualTokens} trainable
 * embeddings placed before every input's word embeddings; the whole backbone stays frozen. They start random
 * (N(0, 1), as PEFT's {@code torch.nn.Embedding}) or as the word embeddings of {@code initText}.
 */
public class PromptTuningConfig implements AdapterMethod {
    /** The name of the trained tensor, as PEFT saves it. */
    public static final String PROMPT_EMBEDDINGS = PromptLearningPeftForm.PROMPT_EMBEDDINGS;

    private static final Logger LOG = Logger.getLogger(PromptTuningConfig.class.getName());

    @Config(description = "Number of virtual tokens placed before every text (PEFT num_virtual_tokens); they take "
            + "positions from the model's maximum length.")
    private int numVirtualTokens = 20;

    @Config(description = "Text whose word embeddings initialise the virtual tokens (PEFT prompt_tuning_init_text, "
            + "special tokens included); repeated to fill a longer budget, cut to a shorter one. Empty for random "
            + "N(0, 1) initialisation.")
    private String initText = "";

    /** For OLCUT. */
    private PromptTuningConfig() { }

    /**
     * Prompt tuning with random initialisation, or from a text.
     *
     * @param numVirtualTokens virtual tokens per input, at least 1
     * @param initText the initialisation text, or empty for random
     */
    public PromptTuningConfig(int numVirtualTokens, String initText) {
        this.numVirtualTokens = numVirtualTokens;
        this.initText = initText;
        postConfig();
    }

    @Override
    public void postConfig() {
        if (numVirtualTokens <= 0) {
            throw new PropertyException("", "numVirtualTokens", "numVirtualTokens must be at least 1, found "
                    + numVirtualTokens);
        }
        if (initText == null) {
            initText = "";
        }
    }

    /** Virtual tokens per input. */
    public int numVirtualTokens() {
        return numVirtualTokens;
    }

    /** The initialisation text, empty for random initialisation. */
    public String initText() {
        return initText;
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng) {
        if (!initText.isEmpty()) {
            throw new IllegalArgumentException("prompt tuning with initText needs the backbone's tokenizer; "
                    + "install it with apply(encoder, tokenizer, rng)");
        }
        return install(encoder, LoraConfig.gaussian(manager(encoder), numVirtualTokens,
                encoder.config().hiddenSize(), 1.0, rng));
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, TextTokenizer tokenizer, SplittableRandom rng) {
        if (initText.isEmpty()) {
            return apply(encoder, rng);
        }
        long[] ids = initTokenIds(tokenizer.encode(List.of(initText)).ids()[0], numVirtualTokens);
        NDArray words = encoder.baseParameters().get("embeddings.word_embeddings.weight").getArray();
        NDArray init = words.get(new NDIndex("{}", words.getManager().create(ids))).duplicate();
        return install(encoder, init);
    }

    /**
     * The token ids PEFT initialises from: the text's ids (special tokens included) cut to the budget when
     * longer, else repeated until they fill it, as {@code PromptEmbedding} does.
     */
    static long[] initTokenIds(long[] textIds, int budget) {
        if (textIds.length > budget) {
            LOG.warning("prompt tuning initText has " + textIds.length + " tokens, more than numVirtualTokens="
                    + budget + "; as PEFT does, only its first " + budget + " tokens initialise the virtual tokens");
        }
        long[] out = new long[budget];
        for (int i = 0; i < budget; i++) {
            out[i] = textIds[i % textIds.length];
        }
        return out;
    }

    private static ai.djl.ndarray.NDManager manager(BertEncoder encoder) {
        return encoder.baseParameters().get("embeddings.word_embeddings.weight").getArray().getManager();
    }

    private AdaptedEncoder install(BertEncoder encoder, NDArray init) {
        if (!Arrays.equals(init.getShape().getShape(), new long[] {numVirtualTokens, encoder.config().hiddenSize()})) {
            throw new IllegalArgumentException("prompt embeddings " + init.getShape() + " do not fit "
                    + new Shape(numVirtualTokens, encoder.config().hiddenSize()));
        }
        PromptEmbeddings prompt = new PromptEmbeddings(init);
        encoder.setVirtualTokens(prompt);
        Parameter p = prompt.parameter();
        p.freeze(false);
        return new AdaptedEncoder(encoder, this, Map.of(), Map.of(PROMPT_EMBEDDINGS, p), TrainingHook.NONE);
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "method");
    }

    @Override
    public String toString() {
        return "prompt(numVirtualTokens=" + numVirtualTokens + (initText.isEmpty() ? "" : ", initText=\"" + initText
                + "\"") + ")";
    }
}
