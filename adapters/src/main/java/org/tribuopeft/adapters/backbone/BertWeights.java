package org.tribuopeft.adapters.backbone;

import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.Sha256;
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

/**
 * A BERT encoder's architecture and every weight under its Hugging Face {@code BertModel} name
 * ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.0.attention.self.query.weight},
 * ...), with Linear weights laid out [out, in] as in PyTorch. Both loaders produce this, so an ONNX
 * file and a Hugging Face folder of the same model give the same object.
 */
public final class BertWeights {
    private final BertConfig config;
    private final Map<String, HostTensor> tensors;

    /**
     * Checks that {@code tensors} holds exactly the weights {@code config} needs, each of the right shape.
     *
     * @param source the file the weights came from, named in errors
     * @throws ModelFileException when a tensor is missing or its shape disagrees with the configuration
     */
    public BertWeights(BertConfig config, Map<String, HostTensor> tensors, String source) throws ModelFileException {
        this.config = config;
        Map<String, HostTensor> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
            HostTensor t = tensors.get(e.getKey());
            if (t == null) {
                throw new ModelFileException(source, "has no tensor '" + e.getKey() + "', which a "
                        + config.numLayers() + "-layer BERT encoder needs");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new ModelFileException(source, "tensor '" + e.getKey() + "' has shape "
                        + Arrays.toString(t.shape()) + " but the configuration (hidden_size=" + config.hiddenSize()
                        + ", intermediate_size=" + config.intermediateSize() + ", vocab_size=" + config.vocabSize()
                        + ", max_position_embeddings=" + config.maxPositions() + ", type_vocab_size="
                        + config.typeVocabSize() + ") needs " + Arrays.toString(e.getValue()));
            }
            ordered.put(e.getKey(), t);
        }
        this.tensors = Collections.unmodifiableMap(ordered);
    }

    /** The architecture. */
    public BertConfig config() {
        return config;
    }

    /** Every weight by canonical name, in canonical order. */
    public Map<String, HostTensor> tensors() {
        return tensors;
    }

    /** One weight by canonical name; fails for unknown names. */
    public HostTensor get(String name) {
        HostTensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no weight named '" + name + "'");
        }
        return t;
    }

    /** Total number of weight values. */
    public long parameterCount() {
        long n = 0;
        for (HostTensor t : tensors.values()) {
            n += t.data().length;
        }
        return n;
    }

    /**
     * SHA-256 over the weights themselves (names, shapes and float32 bits, in canonical order): the
     * same for an ONNX file and a Hugging Face folder holding the same model.
     */
    public String contentSha256() {
        MessageDigest md = Sha256.newDigest();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
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
