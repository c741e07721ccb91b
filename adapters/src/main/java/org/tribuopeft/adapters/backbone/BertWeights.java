package org.tribuopeft.adapters.backbone;

import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.quant.QuantizedTensor;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A BERT encoder's architecture and every weight under its Hugging Face {@code BertModel} name
 * ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.0.attention.self.query.weight},
 * ...), with Linear weights laid out [out, in] as in PyTorch. Both loaders produce this, so an ONNX
 * file and a Hugging Face folder of the same model give the same object. A quantized base (QLoRA) holds its
 * Linear weights as {@link QuantizedTensor}s instead, quantized while they were read, and every other weight in
 * float32; it has no float32 copy of the Linear weights.
 */
public final class BertWeights {
    private static final Pattern LINEAR_WEIGHT = Pattern.compile("^encoder\\.layer\\.\\d+\\.("
            + String.join("|", java.util.Arrays.stream(TargetModule.values())
                    .map(t -> Pattern.quote(t.path())).toList()) + ")\\.weight$");

    private final BertConfig config;
    private final Map<String, HostTensor> tensors;
    private final Map<String, QuantizedTensor> quantized;
    private final BaseQuantization quantization;

    /**
     * Checks that {@code tensors} holds exactly the weights {@code config} needs, each of the right shape.
     *
     * @param source the file the weights came from, named in errors
     * @throws ModelFileException when a tensor is missing or its shape disagrees with the configuration
     */
    public BertWeights(BertConfig config, Map<String, HostTensor> tensors, String source) throws ModelFileException {
        this(config, tensors, Map.of(), null, source);
    }

    /**
     * Checks that {@code tensors} and {@code quantized} together hold exactly the weights {@code config} needs, each
     * of the right shape, the quantized ones being Linear weights stored as {@code quantization} says.
     *
     * @param quantized Linear weights stored quantized, by canonical name (empty for a float32 base)
     * @param quantization how {@code quantized} was made; null exactly when {@code quantized} is empty
     * @param source the file the weights came from, named in errors
     * @throws ModelFileException when a tensor is missing or its shape disagrees with the configuration
     */
    public BertWeights(BertConfig config, Map<String, HostTensor> tensors, Map<String, QuantizedTensor> quantized,
                       BaseQuantization quantization, String source) throws ModelFileException {
        if ((quantization == null) != quantized.isEmpty()) {
            throw new IllegalArgumentException("quantized Linear weights need their quantization settings, and only "
                    + "they do");
        }
        this.config = config;
        this.quantization = quantization;
        Map<String, HostTensor> ordered = new LinkedHashMap<>();
        Map<String, QuantizedTensor> orderedQuantized = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
            QuantizedTensor q = quantized.get(e.getKey());
            HostTensor t = q != null ? null : tensors.get(e.getKey());
            if (t == null && q == null) {
                throw new ModelFileException(source, "has no tensor '" + e.getKey() + "', which a "
                        + config.numLayers() + "-layer BERT encoder needs");
            }
            long[] shape = q != null ? q.shape() : t.shape();
            if (!Arrays.equals(shape, e.getValue())) {
                throw new ModelFileException(source, "tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(shape) + " but the configuration (hidden_size=" + config.hiddenSize()
                        + ", intermediate_size=" + config.intermediateSize() + ", vocab_size=" + config.vocabSize()
                        + ", max_position_embeddings=" + config.maxPositions() + ", type_vocab_size="
                        + config.typeVocabSize() + ") needs " + Arrays.toString(e.getValue()));
            }
            if (q != null) {
                orderedQuantized.put(e.getKey(), q);
            } else {
                ordered.put(e.getKey(), t);
            }
        }
        this.tensors = Collections.unmodifiableMap(ordered);
        this.quantized = Collections.unmodifiableMap(orderedQuantized);
    }

    /** True for the canonical name of a Linear weight an adapter can wrap ({@code encoder.layer.N.<module>.weight}). */
    public static boolean isLinearWeight(String name) {
        return LINEAR_WEIGHT.matcher(name).matches();
    }

    /** True when the Linear weights are held quantized (no float32 copy of them exists here). */
    public boolean isQuantized() {
        return quantization != null;
    }

    /** How the Linear weights are held: the quantization settings, or empty for float32. */
    public Optional<BaseQuantization> quantization() {
        return Optional.ofNullable(quantization);
    }

    /** A Linear weight held quantized, by canonical name, or null when that weight is float32. */
    public QuantizedTensor quantizedLinear(String name) {
        return quantized.get(name);
    }

    /** The architecture. */
    public BertConfig config() {
        return config;
    }

    /**
     * Every weight by canonical name, in canonical order, in float32.
     *
     * @throws IllegalStateException when the Linear weights are held quantized (there is no float32 copy)
     */
    public Map<String, HostTensor> tensors() {
        requireFloat32("all weights in float32");
        return tensors;
    }

    /**
     * One float32 weight by canonical name; fails for unknown names.
     *
     * @throws IllegalStateException for a Linear weight held quantized (read it with {@link #quantizedLinear})
     */
    public HostTensor get(String name) {
        HostTensor t = tensors.get(name);
        if (t == null) {
            if (quantized.containsKey(name)) {
                requireFloat32("the float32 weight '" + name + "'");
            }
            throw new IllegalArgumentException("no weight named '" + name + "'");
        }
        return t;
    }

    private void requireFloat32(String what) {
        if (quantization != null) {
            throw new IllegalStateException("the Linear weights of this backbone are held quantized as " + quantization
                    + " and have no float32 copy, so " + what + " cannot be given; load the backbone without "
                    + "quantization for float32 weights");
        }
    }

    /** Total number of weight values (the same whether the Linear weights are held quantized or not). */
    public long parameterCount() {
        long n = 0;
        for (long[] shape : expectedShapes(config).values()) {
            long size = 1;
            for (long d : shape) {
                size *= d;
            }
            n += size;
        }
        return n;
    }

    /**
     * Bytes these weights hold in Java memory: 4 per float32 value, plus the codes and scales of the Linear weights
     * held quantized.
     */
    public long heldBytes() {
        long n = 0;
        for (HostTensor t : tensors.values()) {
            n += 4L * t.data().length;
        }
        for (QuantizedTensor q : quantized.values()) {
            n += q.codeBytes() + q.scaleBytes();
        }
        return n;
    }

    /**
     * SHA-256 over the weights themselves (names, shapes and float32 bits, in canonical order): the
     * same for an ONNX file and a Hugging Face folder holding the same model. Needs float32 weights.
     */
    public String contentSha256() {
        MessageDigest md = Sha256.newDigest();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, HostTensor> e : tensors().entrySet()) {
            md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            for (long d : e.getValue().shape()) {
                md.update(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(d).array());
            }
            for (float v : e.getValue().data()) {
                if (!buf.hasRemaining()) {
                    md.update(buf.array(), 0, buf.position());
                    buf.clear();
                }
                buf.putFloat(v);
            }
            md.update(buf.array(), 0, buf.position());
            buf.clear();
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The canonical weight names and shapes a configuration needs, in canonical order. */
    public static Map<String, long[]> expectedShapes(BertConfig c) {
        long h = c.hiddenSize();
        long i = c.intermediateSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), h});
        m.put("embeddings.position_embeddings.weight", new long[] {c.maxPositions(), h});
        m.put("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), h});
        m.put("embeddings.LayerNorm.weight", new long[] {h});
        m.put("embeddings.LayerNorm.bias", new long[] {h});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = layerPrefix(l);
            for (String proj : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense")) {
                m.put(p + proj + ".weight", new long[] {h, h});
                m.put(p + proj + ".bias", new long[] {h});
            }
            m.put(p + "attention.output.LayerNorm.weight", new long[] {h});
            m.put(p + "attention.output.LayerNorm.bias", new long[] {h});
            m.put(p + "intermediate.dense.weight", new long[] {i, h});
            m.put(p + "intermediate.dense.bias", new long[] {i});
            m.put(p + "output.dense.weight", new long[] {h, i});
            m.put(p + "output.dense.bias", new long[] {h});
            m.put(p + "output.LayerNorm.weight", new long[] {h});
            m.put(p + "output.LayerNorm.bias", new long[] {h});
        }
        return m;
    }

    /** {@code encoder.layer.N.} */
    public static String layerPrefix(int layer) {
        return "encoder.layer." + layer + ".";
    }

    /** The names {@link #expectedShapes} lists, as a list. */
    public static List<String> expectedNames(BertConfig c) {
        return new ArrayList<>(expectedShapes(c).keySet());
    }
}
