package org.tribuopeft.adapters.backbone;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.tensor.FloatBits;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the weights and architecture of a BERT encoder exported to ONNX by PyTorch (the files in the
 * langchain4j embedding jars, or any {@code torch.onnx.export} of a {@code BertModel}). Exporters
 * store the Linear weights as anonymous {@code onnx::MatMul_N} initializers laid out [in, out]; each
 * is named here by following its MatMul to the Add whose other input is a named {@code .bias}, and is
 * transposed to PyTorch's [out, in]. Heads, epsilon and activation are read from the graph. The file is
 * streamed: the graph's nodes (small) are read first, then each initializer is converted and handed on before
 * the next is read, so the parsed model is never held whole.
 */
public final class OnnxBertReader {
    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");
    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
    private static final int BFLOAT16 = TensorProto.DataType.BFLOAT16_VALUE;
    private static final int DOUBLE = TensorProto.DataType.DOUBLE_VALUE;

    private final String source;
    private final WeightCollector weights;
    private final List<NodeProto> nodes = new ArrayList<>();
    private final Map<String, TensorProto> constants = new HashMap<>();
    private final Map<String, TensorProto> scalarInitializers = new HashMap<>();
    private final Set<String> initializerNames = new HashSet<>();
    private final Map<String, NodeProto> producers = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    /** Initializer name → the Linear it is the weight of; known once the nodes have been read. */
    private Map<String, LinearWeight> linearWeights;
    /** Initializers met before the nodes (not the usual order), handled once the nodes are known. */
    private final List<TensorProto> early = new ArrayList<>();

    /** The canonical weight name an initializer is stored under, the bias that names it, and its layout. */
    private record LinearWeight(String weightName, String biasInitializer, boolean transpose) {}

    private OnnxBertReader(String source, WeightCollector weights) {
        this.source = source;
        this.weights = weights;
    }

    /**
     * Parses an ONNX model and extracts a BERT encoder's weights, all in float32.
     *
     * @param in the ONNX bytes (not closed here)
     * @param source the file or resource name, used in error messages
     * @throws ModelFileException when the bytes are not a complete ONNX model or not a BERT encoder
     */
    public static BertWeights read(InputStream in, String source) throws IOException {
        return read(in, source, null, source);
    }

    /**
     * Parses an ONNX model and extracts a BERT encoder's weights, reading the initializers one at a time: with a
     * quantization, each Linear weight is quantized as soon as it is read and its float32 values are dropped, so
     * neither the whole model nor its float32 Linear weights are ever held at once. The input is read to its end.
     *
     * @param in the ONNX bytes (not closed here)
     * @param source the file or resource name, used in error messages
     * @param quantization how to hold the Linear weights, or null for float32
     * @param model the model's display name, for the block-size error
     * @throws ModelFileException when the bytes are not a complete ONNX model or not a BERT encoder
     * @throws IllegalArgumentException when the block size does not divide a Linear weight's input width
     */
    public static BertWeights read(InputStream in, String source, BaseQuantization quantization, String model)
            throws IOException {
        OnnxBertReader reader = new OnnxBertReader(source, new WeightCollector(quantization, model));
        try {
            CodedInputStream cis = CodedInputStream.newInstance(in);
            cis.setSizeLimit(Integer.MAX_VALUE);
            reader.readModel(cis);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelFileException(source, "is not a readable ONNX model (truncated or corrupt): "
                    + e.getMessage(), e);
        }
        if (reader.nodes.isEmpty()) {
            throw new ModelFileException(source, "holds no ONNX graph; it is empty, truncated or not an ONNX file");
        }
        return reader.extract();
    }

    /** Walks the ModelProto's fields, descending into the graph and skipping everything else. */
    private void readModel(CodedInputStream cis) throws IOException {
        while (true) {
            int tag = cis.readTag();
            if (tag == 0) {
                return;
            }
            if (tag == tag(ModelProto.GRAPH_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                int limit = cis.pushLimit(cis.readRawVarint32());
                readGraph(cis);
                cis.popLimit(limit);
            } else if (!cis.skipField(tag)) {
                return;
            }
        }
    }

    /** Reads the graph's nodes, and its initializers one at a time, handing each to the collector and dropping it. */
    private void readGraph(CodedInputStream cis) throws IOException {
        ExtensionRegistryLite none = ExtensionRegistryLite.getEmptyRegistry();
        int nodeTag = tag(GraphProto.NODE_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        int initTag = tag(GraphProto.INITIALIZER_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        while (true) {
            int tag = cis.readTag();
            if (tag == 0) {
                break;
            }
            if (tag == nodeTag) {
                if (linearWeights != null) {
                    throw new ModelFileException(source, "lists graph nodes after its initializers began to be "
                            + "named; re-save the model with onnx.save so that nodes come first");
                }
                nodes.add(cis.readMessage(NodeProto.parser(), none));
            } else if (tag == initTag) {
                TensorProto t = cis.readMessage(TensorProto.parser(), none);
                if (nodes.isEmpty()) {
                    early.add(t);
                } else {
                    initializer(t);
                }
            } else if (!cis.skipField(tag)) {
                break;
            }
        }
        for (TensorProto t : early) {
            initializer(t);
        }
        early.clear();
    }

    /** A protobuf field tag: field number and wire type. */
    private static int tag(int field, int wireType) {
        return (field << 3) | wireType;
    }

    private void initializer(TensorProto t) throws ModelFileException {
        if (linearWeights == null) {
            indexNodes();
        }
        String name = t.getName();
        initializerNames.add(name);
        if (isFloat(t) && elementCount(t) == 1) {
            scalarInitializers.put(name, t);
        }
        LinearWeight linear = linearWeights.get(name);
        if (linear != null) {
            HostTensor w = toHost(t);
            weights.put(linear.weightName(), linear.transpose() ? w.transpose2d() : w);
        } else if (isFloat(t) && !name.startsWith("onnx::")) {
            weights.put(Backbone.canonicalName(name), toHost(t));
        }
    }

    private void indexNodes() throws ModelFileException {
        for (NodeProto n : nodes) {
            for (String out : n.getOutputList()) {
                producers.put(out, n);
            }
            for (String in : n.getInputList()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
            if (n.getOpType().equals("Constant")) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        constants.put(n.getOutput(0), a.getT());
                    }
                }
            }
        }
        linearWeights = nameLinearWeights();
    }

    private BertWeights extract() throws ModelFileException {
        if (linearWeights == null) {
            indexNodes();
        }
        for (LinearWeight w : linearWeights.values()) {
            if (weights.names().contains(w.weightName()) && !initializerNames.contains(w.biasInitializer())) {
                throw new ModelFileException(source, "adds '" + w.biasInitializer() + "' to the Linear '"
                        + w.weightName() + "' but holds no initializer of that name");
            }
        }
        BertConfig config = inferConfig();
        return weights.build(config, source);
    }

    /**
     * Finds each MatMul with a constant right-hand side and names it after the bias added to its output (and each
     * Gemm after its bias). A constant is an input no node produces; only the initializers among them are used.
     */
    private Map<String, LinearWeight> nameLinearWeights() {
        Map<String, LinearWeight> out = new HashMap<>();
        for (NodeProto n : nodes) {
            if (n.getOpType().equals("MatMul") && n.getInputCount() == 2 && constant(n.getInput(1))) {
                Optional<String> bias = biasAddedTo(n.getOutput(0));
                if (bias.isEmpty()) {
                    continue;
                }
                String biasName = Backbone.canonicalName(bias.get());
                String weightName = biasName.substring(0, biasName.length() - ".bias".length()) + ".weight";
                out.put(n.getInput(1), new LinearWeight(weightName, bias.get(), true));
            } else if (n.getOpType().equals("Gemm") && n.getInputCount() == 3 && constant(n.getInput(1))
                    && constant(n.getInput(2))) {
                String biasName = Backbone.canonicalName(n.getInput(2));
                if (!biasName.endsWith(".bias")) {
                    continue;
                }
                boolean transB = intAttribute(n, "transB", 0) == 1;
                out.put(n.getInput(1), new LinearWeight(biasName.substring(0, biasName.length() - 5) + ".weight",
                        n.getInput(2), !transB));
            }
        }
        return out;
    }

    private boolean constant(String name) {
        return !name.isEmpty() && !producers.containsKey(name);
    }

    /** The initializer name of the bias added to {@code output}. */
    private Optional<String> biasAddedTo(String output) {
        for (NodeProto c : consumers.getOrDefault(output, List.of())) {
            if (!c.getOpType().equals("Add")) {
                continue;
            }
            for (String in : c.getInputList()) {
                if (!in.equals(output) && constant(in) && Backbone.canonicalName(in).endsWith(".bias")) {
                    return Optional.of(in);
                }
            }
        }
        return Optional.empty();
    }

    private BertConfig inferConfig() throws ModelFileException {
        HostTensor words = require("embeddings.word_embeddings.weight");
        HostTensor positions = require("embeddings.position_embeddings.weight");
        HostTensor types = require("embeddings.token_type_embeddings.weight");
        HostTensor inter = require("encoder.layer.0.intermediate.dense.bias");
        TreeSet<Integer> layers = new TreeSet<>();
        for (String name : weights.names()) {
            Matcher m = LAYER.matcher(name);
            if (m.find()) {
                layers.add(Integer.parseInt(m.group(1)));
            }
        }
        int hidden = (int) words.dim(1);
        int headSize = attentionHeadSize();
        if (hidden % headSize != 0) {
            throw new ModelFileException(source, "attention head size " + headSize + " (from the attention scale) "
                    + "does not divide hidden size " + hidden);
        }
        try {
            return new BertConfig((int) words.dim(0), hidden, layers.size(), hidden / headSize, (int) inter.dim(0),
                    (int) positions.dim(0), (int) types.dim(0), layerNormEpsilon(), activation(), 0.1, 0.1);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(source, "describes an invalid encoder: " + e.getMessage(), e);
        }
    }

    private HostTensor require(String name) throws ModelFileException {
        HostTensor t = weights.floatTensor(name);
        if (t == null) {
            throw new ModelFileException(source, "has no initializer '" + name + "'; it is not a BERT encoder export "
                    + "(or it is truncated)");
        }
        return t;
    }

    /** Follows the first Softmax back to the scalar that divides (or multiplies) the attention scores. */
    private int attentionHeadSize() throws ModelFileException {
        for (NodeProto n : nodes) {
            if (!n.getOpType().equals("Softmax")) {
                continue;
            }
            NodeProto cur = producers.get(n.getInput(0));
            for (int depth = 0; cur != null && depth < 4; depth++) {
                if (cur.getOpType().equals("Div") || cur.getOpType().equals("Mul")) {
                    Optional<Double> scale = scalarInput(cur);
                    if (scale.isPresent()) {
                        double s = scale.get();
                        double headSize = cur.getOpType().equals("Div") ? s * s : 1.0 / (s * s);
                        return (int) Math.round(headSize);
                    }
                }
                cur = producers.get(cur.getInput(0));
            }
        }
        throw new ModelFileException(source, "has no attention scale (Softmax preceded by a Div or Mul by a "
                + "constant); cannot tell the number of attention heads");
    }

    /** The epsilon of the first LayerNorm: a LayerNormalization attribute or the constant added under Sqrt. */
    private double layerNormEpsilon() throws ModelFileException {
        for (NodeProto n : nodes) {
            if (n.getOpType().equals("LayerNormalization")) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("epsilon")) {
                        return a.getF();
                    }
                }
                return 1e-5; // the ONNX default
            }
            if (n.getOpType().equals("Sqrt")) {
                NodeProto add = producers.get(n.getInput(0));
                if (add != null && add.getOpType().equals("Add")) {
                    Optional<Double> eps = scalarInput(add);
                    if (eps.isPresent()) {
                        return eps.get();
                    }
                }
            }
        }
        throw new ModelFileException(source, "has no LayerNorm epsilon (no LayerNormalization node and no "
                + "Sqrt(Add(variance, epsilon)) pattern)");
    }

    private HiddenActivation activation() throws ModelFileException {
        boolean tanh = false;
        boolean relu = false;
        for (NodeProto n : nodes) {
            switch (n.getOpType()) {
                case "Erf", "Gelu" -> {
                    return HiddenActivation.GELU;
                }
                case "Tanh", "FastGelu" -> tanh = true;
                case "Relu" -> relu = true;
                default -> { }
            }
        }
        if (tanh) {
            return HiddenActivation.GELU_TANH;
        }
        if (relu) {
            return HiddenActivation.RELU;
        }
        throw new ModelFileException(source, "uses no activation this encoder implements (Erf, Tanh or Relu)");
    }

    private Optional<Double> scalarInput(NodeProto node) {
        for (String in : node.getInputList()) {
            TensorProto t = constants.containsKey(in) ? constants.get(in) : scalarInitializers.get(in);
            if (t != null && isFloat(t) && elementCount(t) == 1) {
                try {
                    return Optional.of((double) toHost(t).data()[0]);
                } catch (ModelFileException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    private static int intAttribute(NodeProto n, String name, int dflt) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return (int) a.getI();
            }
        }
        return dflt;
    }

    private static boolean isFloat(TensorProto t) {
        int dt = t.getDataType();
        return dt == FLOAT || dt == FLOAT16 || dt == BFLOAT16 || dt == DOUBLE;
    }

    private static long elementCount(TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return n;
    }

    private HostTensor toHost(TensorProto t) throws ModelFileException {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new ModelFileException(source, "initializer '" + t.getName() + "' is stored in an external data "
                    + "file, which is not supported; export the model with its weights inside the .onnx file");
        }
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.getDims(i);
        }
        long count = elementCount(t);
        float[] values = new float[Math.toIntExact(count)];
        int dt = t.getDataType();
        if (!t.getRawData().isEmpty()) {
            ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            int width = dt == DOUBLE ? 8 : dt == FLOAT ? 4 : 2;
            if (raw.remaining() != count * width) {
                throw new ModelFileException(source, "initializer '" + t.getName() + "' has " + raw.remaining()
                        + " bytes of data but its shape " + t.getDimsList() + " needs " + count * width
                        + "; the file is truncated or corrupt");
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (dt) {
                    case FLOAT -> raw.getFloat(i * 4);
                    case DOUBLE -> (float) raw.getDouble(i * 8);
                    case BFLOAT16 -> FloatBits.bf16ToFloat(raw.getShort(i * 2));
                    default -> FloatBits.halfToFloat(raw.getShort(i * 2));
                };
            }
        } else if (dt == FLOAT && t.getFloatDataCount() == count) {
            for (int i = 0; i < values.length; i++) {
                values[i] = t.getFloatData(i);
            }
        } else if (dt == DOUBLE && t.getDoubleDataCount() == count) {
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) t.getDoubleData(i);
            }
        } else if ((dt == FLOAT16 || dt == BFLOAT16) && t.getInt32DataCount() == count) {
            for (int i = 0; i < values.length; i++) {
                int bits = t.getInt32Data(i) & 0xFFFF;
                values[i] = dt == BFLOAT16 ? FloatBits.bf16ToFloat((short) bits) : FloatBits.halfToFloat((short) bits);
            }
        } else {
            throw new ModelFileException(source, "initializer '" + t.getName() + "' holds no data for its shape "
                    + t.getDimsList() + "; the file is truncated or corrupt");
        }
        return new HostTensor(shape, values);
    }
}
