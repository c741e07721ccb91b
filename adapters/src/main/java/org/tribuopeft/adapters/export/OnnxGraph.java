package org.tribuopeft.adapters.export;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A small builder for ONNX graphs: nodes with generated unique names, float and int64 initializers,
 * and typed inputs and outputs with symbolic dimensions. Only what the exporter needs.
 */
final class OnnxGraph {
    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int UINT8 = TensorProto.DataType.UINT8_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private int counter;

    OnnxGraph(String name) {
        graph.setName(name);
    }

    /** A fresh value name with a readable prefix. */
    String fresh(String prefix) {
        return prefix + "_" + counter++;
    }

    /** Adds a node with one output (named from {@code hint}); returns the output name. */
    String op(String opType, String hint, String... inputs) {
        String out = fresh(hint);
        node(opType, new String[] {out}, inputs);
        return out;
    }

    /** Adds a node with given outputs and optional attributes. */
    NodeProto.Builder node(String opType, String[] outputs, String... inputs) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(opType).setName(fresh(opType.toLowerCase()));
        for (String i : inputs) {
            n.addInput(i);
        }
        for (String o : outputs) {
            n.addOutput(o);
        }
        graph.addNode(n);
        return graph.getNodeBuilder(graph.getNodeCount() - 1);
    }

    /** Adds a node with one output and integer-list, integer or float attributes given as name/value pairs. */
    String opWithAttrs(String opType, String hint, String[] inputs, Object... attrs) {
        return opInDomain("", opType, hint, inputs, attrs);
    }

    /** Adds a node of an operator set other than the default one (e.g. {@code com.microsoft}), with attributes. */
    String opInDomain(String domain, String opType, String hint, String[] inputs, Object... attrs) {
        String out = fresh(hint);
        NodeProto.Builder n = node(opType, new String[] {out}, inputs);
        if (!domain.isEmpty()) {
            n.setDomain(domain);
        }
        for (int i = 0; i < attrs.length; i += 2) {
            String name = (String) attrs[i];
            Object v = attrs[i + 1];
            AttributeProto.Builder a = AttributeProto.newBuilder().setName(name);
            if (v instanceof long[] ints) {
                a.setType(AttributeProto.AttributeType.INTS);
                for (long x : ints) {
                    a.addInts(x);
                }
            } else if (v instanceof Long l) {
                a.setType(AttributeProto.AttributeType.INT).setI(l);
            } else if (v instanceof Integer l) {
                a.setType(AttributeProto.AttributeType.INT).setI(l);
            } else if (v instanceof Float f) {
                a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
            } else {
                throw new IllegalArgumentException("unsupported attribute " + v);
            }
            n.addAttribute(a);
        }
        return out;
    }

    /** Adds a float initializer named {@code name}. */
    String floatInit(String name, HostTensor t) {
        ByteBuffer buf = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(t.data());
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : t.shape()) {
            b.addDims(d);
        }
        graph.addInitializer(b);
        return name;
    }

    /** Adds a uint8 initializer named {@code name} with the given shape. */
    String byteInit(String name, byte[] values, long... shape) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(UINT8)
                .setRawData(ByteString.copyFrom(values));
        for (long d : shape) {
            b.addDims(d);
        }
        graph.addInitializer(b);
        return name;
    }

    /** Adds a float initializer named {@code name} from raw values with the given shape. */
    String floatInit(String name, float[] values, long... shape) {
        return floatInit(name, new HostTensor(shape, values));
    }

    /** Adds a float scalar constant initializer. */
    String scalar(float v) {
        return floatInit(fresh("const"), new HostTensor(new long[0], new float[] {v}));
    }

    /** Adds an int64 initializer. */
    String longInit(String hint, long[] values, long... shape) {
        String name = fresh(hint);
        ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            buf.putLong(v);
        }
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(INT64)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (long d : shape) {
            b.addDims(d);
        }
        graph.addInitializer(b);
        return name;
    }

    /** Declares a graph input; dims are Long for fixed sizes or String for symbolic ones. */
    void input(String name, int elemType, Object... dims) {
        graph.addInput(valueInfo(name, elemType, dims));
    }

    /** Declares a graph output. */
    void output(String name, int elemType, Object... dims) {
        graph.addOutput(valueInfo(name, elemType, dims));
    }

    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String s) {
                dim.setDimParam(s);
            } else {
                dim.setDimValue(((Number) d).longValue());
            }
            shape.addDim(dim);
        }
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)
                .setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    /** Renames the output of the node that produced {@code value} to {@code newName}. */
    void rename(String value, String newName) {
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto.Builder n = graph.getNodeBuilder(i);
            for (int j = 0; j < n.getOutputCount(); j++) {
                if (n.getOutput(j).equals(value)) {
                    n.setOutput(j, newName);
                }
            }
        }
    }

    GraphProto build() {
        return graph.build();
    }
}
