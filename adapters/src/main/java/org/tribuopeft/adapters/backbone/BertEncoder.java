package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.quant.BaseQuantizer;
import org.tribuopeft.adapters.quant.QuantizedTensor;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face-compatible BERT encoder written as DJL blocks: {@link BertEmbeddings} then N
 * {@link BertLayer}s. Input is (token ids, attention mask, token types), each [batch, tokens] int64;
 * output is {@code last_hidden_state}, [batch, tokens, hidden]. All parameters start frozen; a
 * training method unfreezes what it trains.
 */
public final class BertEncoder extends NamedBlock {
    private final BertConfig config;
    private final BertEmbeddings embeddings;
    private final List<BertLayer> layers;
    private VirtualTokens virtualTokens;
    private AttentionPrefix attentionPrefix;
    private final BaseQuantizer quantizer;

    private BertEncoder(BertConfig config, BertEmbeddings embeddings, List<BertLayer> layers, BaseQuantizer quantizer) {
        this.config = config;
        this.quantizer = quantizer;
        this.embeddings = addModule("embeddings", embeddings);
        for (int i = 0; i < layers.size(); i++) {
            addModule("encoder.layer." + i, layers.get(i));
        }
        this.layers = Collections.unmodifiableList(layers);
    }

    /**
     * Builds an encoder whose parameters are copies of {@code weights} on {@code manager}'s device.
     * The arrays live as long as {@code manager}.
     */
    public static BertEncoder create(BertWeights weights, NDManager manager) {
        return create(weights, manager, null);
    }

    /**
     * Builds an encoder whose Linear weights are quantized with {@code quantization} (null: float32 copies), one
     * Linear at a time, so the float32 copies of the Linear weights never all exist on the device; weights already
     * held quantized ({@link BertWeights#isQuantized()}) are uploaded as they are. Embeddings, LayerNorms and biases
     * are float32 copies. The arrays live as long as {@code manager}.
     *
     * @throws IllegalArgumentException when the block size does not divide the Linear widths, or the weights are held
     *     quantized otherwise than {@code quantization} says
     */
    public static BertEncoder create(BertWeights weights, NDManager manager, BaseQuantization quantization) {
        BertConfig c = weights.config();
        if (weights.isQuantized() && !weights.quantization().orElseThrow().equals(quantization)) {
            throw new IllegalArgumentException("the weights are held quantized as "
                    + weights.quantization().orElseThrow() + " and cannot make an encoder stored as "
                    + (quantization == null ? BaseQuantization.FLOAT32 : quantization.toString()));
        }
        BaseQuantizer quantizer = null;
        if (quantization != null) {
            quantization.checkFits("encoder with hidden size " + c.hiddenSize() + " and intermediate size "
                    + c.intermediateSize(), c.hiddenSize(), c.intermediateSize());
            quantizer = quantization.quantizer();
        }
        BertEmbeddings emb = new BertEmbeddings(c,
                array(weights, manager, "embeddings.word_embeddings.weight"),
                array(weights, manager, "embeddings.position_embeddings.weight"),
                array(weights, manager, "embeddings.token_type_embeddings.weight"),
                array(weights, manager, "embeddings.LayerNorm.weight"),
                array(weights, manager, "embeddings.LayerNorm.bias"));
        List<BertLayer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = BertWeights.layerPrefix(l);
            Map<TargetModule, DenseLinear> dense = new EnumMap<>(TargetModule.class);
            for (TargetModule t : TargetModule.values()) {
                NDArray bias = array(weights, manager, p + t.path() + ".bias");
                String name = p + t.path() + ".weight";
                QuantizedTensor held = weights.quantizedLinear(name);
                if (held != null) {
                    dense.put(t, new DenseLinear(quantizer.upload(held, manager), bias));
                } else {
                    HostTensor w = weights.get(name);
                    dense.put(t, quantizer == null ? new DenseLinear(w.toNDArray(manager), bias)
                            : new DenseLinear(quantizer.quantize(w, manager), bias));
                }
            }
            layers.add(new BertLayer(c, dense,
                    array(weights, manager, p + "attention.output.LayerNorm.weight"),
                    array(weights, manager, p + "attention.output.LayerNorm.bias"),
                    array(weights, manager, p + "output.LayerNorm.weight"),
                    array(weights, manager, p + "output.LayerNorm.bias")));
        }
        BertEncoder encoder = new BertEncoder(c, emb, layers, quantizer);
        encoder.freezeParameters(true);
        return encoder;
    }

    /**
     * A second encoder over the very same base arrays (no copy): its slots hold fresh
     * {@link DenseLinear}s around the shared weights, so another adapter can be installed on it while the
     * pretrained weights exist once in memory. The shared weights must never be modified in place (no
     * merging, no PiSSA) while shared.
     */
    public BertEncoder shareBase() {
        Map<String, Parameter> p = baseParameters();
        BertEmbeddings emb = new BertEmbeddings(config, arr(p, "embeddings.word_embeddings.weight"),
                arr(p, "embeddings.position_embeddings.weight"), arr(p, "embeddings.token_type_embeddings.weight"),
                arr(p, "embeddings.LayerNorm.weight"), arr(p, "embeddings.LayerNorm.bias"));
        List<BertLayer> shared = new ArrayList<>();
        for (int l = 0; l < config.numLayers(); l++) {
            String pre = BertWeights.layerPrefix(l);
            Map<TargetModule, DenseLinear> dense = new EnumMap<>(TargetModule.class);
            for (TargetModule t : TargetModule.values()) {
                DenseLinear own = layers.get(l).linear(t).base();
                NDArray bias = arr(p, pre + t.path() + ".bias");
                dense.put(t, own.quantized().map(q -> new DenseLinear(q, bias))
                        .orElseGet(() -> new DenseLinear(arr(p, pre + t.path() + ".weight"), bias)));
            }
            shared.add(new BertLayer(config, dense, arr(p, pre + "attention.output.LayerNorm.weight"),
                    arr(p, pre + "attention.output.LayerNorm.bias"), arr(p, pre + "output.LayerNorm.weight"),
                    arr(p, pre + "output.LayerNorm.bias")));
        }
        BertEncoder encoder = new BertEncoder(config, emb, shared, quantizer);
        encoder.freezeParameters(true);
        return encoder;
    }

    private static NDArray arr(Map<String, Parameter> p, String name) {
        return p.get(name).getArray();
    }

    private static NDArray array(BertWeights w, NDManager manager, String name) {
        return w.get(name).toNDArray(manager);
    }

    /** The architecture. */
    public BertConfig config() {
        return config;
    }

    /** The embedding block. */
    public BertEmbeddings embeddings() {
        return embeddings;
    }

    /** The transformer layers, first to last. */
    public List<BertLayer> layers() {
        return layers;
    }

    /**
     * The additive attention mask, [batch, 1, 1, leading + tokens]: (mask − 1) · float32 max, so 0 on tokens and
     * on the {@code leading} virtual or prefix positions, the most negative float on padding, as the PyTorch
     * export does. Null when no row is padded: adding zeros to the scores changes nothing and costs a pass over
     * them in every layer.
     */
    private static NDArray maskBias(NDArray attentionMask, int leading) {
        if (attentionMask.getShape().size() > 0) {
            try (NDArray least = attentionMask.min()) {
                if (least.getLong() == 1) {
                    return null;
                }
            }
        }
        long batch = attentionMask.getShape().get(0);
        NDArray mask = attentionMask.toType(DataType.FLOAT32, false);
        if (leading > 0) {
            mask = attentionMask.getManager().ones(new Shape(batch, leading)).concat(mask, 1);
        }
        return Scalars.mul(Scalars.sub(mask, 1f), Float.MAX_VALUE).reshape(batch, 1, 1, mask.getShape().get(1));
    }

    /**
     * Runs the encoder.
     *
     * @param ids [batch, tokens] int64
     * @param attentionMask [batch, tokens] int64, 1 for tokens and 0 for padding
     * @param tokenTypes [batch, tokens] int64
     * @return last_hidden_state [batch, tokens, hidden]
     */
    public NDArray encode(ParameterStore ps, NDArray ids, NDArray attentionMask, NDArray tokenTypes,
                          boolean training) {
        int prefix = virtualTokens == null ? 0 : virtualTokens.count();
        int past = attentionPrefix == null ? 0 : attentionPrefix.count();
        NDArray virtual = prefix == 0 ? null : virtualTokens.embeddings(ps, ids.getDevice(), training);
        NDArray x = embeddings.embed(ps, ids, tokenTypes, virtual, past, training);
        NDArray maskBias = maskBias(attentionMask, prefix + past);
        NDArray keysAndValues = past == 0 ? null : attentionPrefix.keysAndValues(ps, ids.getDevice(), training);
        for (int l = 0; l < layers.size(); l++) {
            NDArray next = layers.get(l).apply(ps, x, maskBias, keysAndValues == null ? null : keysAndValues.get(l),
                    training);
            // our handle on the finished hidden state goes now; autograd keeps what backward needs
            if (next != x) {
                x.close();
            }
            x = next;
        }
        // the virtual positions are left out so that pooling, heads and exports see the real tokens only
        return prefix == 0 ? x : x.get(new NDIndex(":, " + prefix + ":, :"));
    }

    /**
     * Gives every attention layer extra keys and values before the input's from now on (null removes them):
     * the hook for methods that learn a per-layer attention prefix.
     */
    public void setAttentionPrefix(AttentionPrefix prefix) {
        this.attentionPrefix = prefix;
    }

    /** Positions the installed virtual tokens and attention prefix take from the model's maximum, 0 without them. */
    public int extraPositions() {
        return (virtualTokens == null ? 0 : virtualTokens.count()) + (attentionPrefix == null ? 0 : attentionPrefix.count());
    }

    /** The attention prefix in use, or null. */
    public AttentionPrefix attentionPrefix() {
        return attentionPrefix;
    }

    /**
     * Puts virtual tokens before every input from now on (null removes them): the hook for methods that
     * learn input embeddings rather than weights.
     */
    public void setVirtualTokens(VirtualTokens tokens) {
        this.virtualTokens = tokens;
    }

    /** The virtual tokens in use, or null. */
    public VirtualTokens virtualTokens() {
        return virtualTokens;
    }

    /**
     * Runs the encoder for inference on a tokenized batch, creating its inputs on {@code manager}.
     *
     * @return last_hidden_state [batch, tokens, hidden], attached to {@code manager}
     */
    public NDArray encode(NDManager manager, TokenBatch batch) {
        NDList in = batch.toNDList(manager);
        return encode(new ParameterStore(manager, false), in.get(0), in.get(1), in.get(2), false);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(encode(ps, inputs.get(0), inputs.get(1), inputs.get(2), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.hiddenSize())};
    }

    /**
     * Copies the encoder's current base weights (of the pretrained Linears, not of any adapter) back
     * into Java memory under their canonical names.
     */
    public BertWeights toWeights() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        Map<String, DenseLinear> quantizedLinears = quantizedLinears();
        Map<String, Parameter> parameters = baseParameters();
        for (String name : BertWeights.expectedNames(config)) {
            Parameter p = parameters.get(name);
            out.put(name, p != null ? HostTensor.of(p.getArray())
                    : quantizedLinears.get(name).hostWeight());
        }
        try {
            return new BertWeights(config, out, "encoder in memory");
        } catch (ModelFileException e) {
            throw new IllegalStateException("encoder lost a weight: " + e.getMessage(), e);
        }
    }

    /**
     * The Linears whose weight is stored quantized, by the canonical name of that weight
     * ({@code encoder.layer.0.attention.self.query.weight}); empty for a float32 base.
     */
    public Map<String, DenseLinear> quantizedLinears() {
        Map<String, DenseLinear> out = new LinkedHashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            for (TargetModule t : TargetModule.values()) {
                DenseLinear d = layers.get(l).linear(t).base();
                if (d.isQuantized()) {
                    out.put(BertWeights.layerPrefix(l) + t.path() + ".weight", d);
                }
            }
        }
        return out;
    }

    /** True when the Linear weights are stored quantized. */
    public boolean isQuantized() {
        return quantizer != null;
    }

    /** How the Linear weights are stored: the quantization settings, or empty for float32. */
    public java.util.Optional<BaseQuantization> quantization() {
        return java.util.Optional.ofNullable(quantizer).map(BaseQuantizer::settings);
    }

    /**
     * Bytes the frozen base keeps resident on the device, by kind of tensor: {@code embeddings} (the three tables),
     * {@code layer-norms}, {@code biases}, {@code linear-weights} (float32, or codes plus scales when quantized; the
     * scales also appear alone as {@code linear-scales}) and {@code code-tables} (shared lookup tables of a
     * quantized base). Adapters, heads and activations are not included.
     */
    public Map<String, Long> baseResidentBytes() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String k : List.of("embeddings", "layer-norms", "biases", "linear-weights", "linear-scales",
                "code-tables")) {
            out.put(k, 0L);
        }
        baseParameters().forEach((name, p) -> {
            String kind = name.contains("LayerNorm") ? "layer-norms" : name.startsWith("embeddings.") ? "embeddings"
                    : name.endsWith(".bias") ? "biases" : "linear-weights";
            out.merge(kind, bytes(p.getArray()), Long::sum);
        });
        quantizedLinears().values().forEach(d -> d.quantized().ifPresent(q -> {
            out.merge("linear-weights", q.residentBytes(), Long::sum);
            out.merge("linear-scales", q.scaleBytes(), Long::sum);
        }));
        out.put("code-tables", quantizer == null ? 0L : quantizer.tableBytes());
        return out;
    }

    private static long bytes(NDArray a) {
        return a.getShape().size() * a.getDataType().getNumOfBytes();
    }

    /**
     * The pretrained float32 parameters under their canonical names, whatever adapters occupy the slots; quantized
     * Linear weights are not parameters and are listed by {@link #quantizedLinears()} instead.
     */
    public Map<String, Parameter> baseParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        embeddings.namedParameters().forEach((k, v) -> out.put("embeddings." + k, v));
        for (int l = 0; l < layers.size(); l++) {
            BertLayer layer = layers.get(l);
            String p = BertWeights.layerPrefix(l);
            for (TargetModule t : TargetModule.values()) {
                DenseLinear d = layer.linear(t).base();
                if (!d.isQuantized()) {
                    out.put(p + t.path() + ".weight", d.weight());
                }
                if (d.bias() != null) {
                    out.put(p + t.path() + ".bias", d.bias());
                }
            }
            for (Map.Entry<String, Parameter> e : layer.namedParameters().entrySet()) {
                if (e.getKey().contains("LayerNorm")) {
                    out.put(p + e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }
}
