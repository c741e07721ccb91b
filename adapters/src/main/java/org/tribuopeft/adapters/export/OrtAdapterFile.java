package org.tribuopeft.adapters.export;

import com.google.flatbuffers.FlatBufferBuilder;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes ONNX Runtime's {@code .onnx_adapter} format (a flatbuffer with file identifier {@code TORT}:
 * an {@code Adapter} table of format, adapter and model versions and a list of {@code Parameter}
 * tables, each a name, dims, a data type and raw little-endian bytes). ONNX Runtime feeds each
 * parameter to the graph input of the same name when the adapter is active on a run.
 */
public final class OrtAdapterFile {
    /** The adapter format version ONNX Runtime reads. */
    public static final int FORMAT_VERSION = 1;
    private static final int FLOAT = 1;

    private OrtAdapterFile() {}

    /**
     * Serializes float parameters.
     *
     * @param parameters graph input name to value
     * @param adapterVersion a version number for this adapter
     * @param modelVersion the version of the base model it applies to
     */
    public static byte[] bytes(Map<String, HostTensor> parameters, int adapterVersion, int modelVersion) {
        FlatBufferBuilder b = new FlatBufferBuilder(1 << 16);
        List<Map.Entry<String, HostTensor>> entries = List.copyOf(parameters.entrySet());
        int[] params = new int[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            String name = entries.get(i).getKey();
            HostTensor t = entries.get(i).getValue();
            int nameOff = b.createString(name);
            long[] dims = t.shape();
            b.startVector(8, dims.length, 8);
            for (int d = dims.length - 1; d >= 0; d--) {
                b.addLong(dims[d]);
            }
            int dimsOff = b.endVector();
            ByteBuffer raw = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(t.data());
            byte[] data = raw.array();
            // raw_data is declared force_align: 8
            b.startVector(1, data.length, 8);
            for (int k = data.length - 1; k >= 0; k--) {
                b.addByte(data[k]);
            }
            int dataOff = b.endVector();
            b.startTable(4);
            b.addOffset(3, dataOff, 0);
            b.addInt(2, FLOAT, 0);
            b.addOffset(1, dimsOff, 0);
            b.addOffset(0, nameOff, 0);
            params[i] = b.endTable();
        }
        b.startVector(4, params.length, 4);
        for (int i = params.length - 1; i >= 0; i--) {
            b.addOffset(params[i]);
        }
        int paramsOff = b.endVector();
        b.startTable(4);
        b.addOffset(3, paramsOff, 0);
        b.addInt(2, modelVersion, 0);
        b.addInt(1, adapterVersion, 0);
        b.addInt(0, FORMAT_VERSION, 0);
        int root = b.endTable();
        b.finish(root, "TORT");
        return b.sizedByteArray();
    }

    /** Writes the file atomically. */
    public static void write(Path file, Map<String, HostTensor> parameters, int adapterVersion, int modelVersion)
            throws IOException {
        byte[] data = bytes(parameters, adapterVersion, modelVersion);
        AtomicFiles.write(file, out -> out.write(data));
    }
}
