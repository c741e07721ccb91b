package org.tribuopeft.adapters.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.tribuopeft.adapters.engine.Scalars;

import java.nio.ByteBuffer;

/**
 * A quantized frozen weight on a DJL device: the codes and scales only. {@link #dequantize()} rebuilds the float32
 * [out, in] weight inside the current graph with engine ops (a code-table lookup by index, times the expanded block
 * scales), so a layer holds its full-precision weight only while it computes. Never trains.
 */
public final class QuantizedWeight implements AutoCloseable {
    private final BaseQuantizer quantizer;
    private final long out;
    private final long in;
    private final int blockSize;
    private final boolean packed;
    private final NDArray codes;
    private final NDArray scales;
    private final NDArray scaleCodes;
    private final NDArray scaleAbsmax;
    private final NDArray scaleOffset;

    private QuantizedWeight(BaseQuantizer quantizer, QuantizedTensor t, NDManager manager) {
        this.quantizer = quantizer;
        long[] shape = t.shape();
        this.out = shape[0];
        this.in = shape[1];
        this.blockSize = t.blockSize();
        this.packed = t.packed();
        byte[] c = t.codes();
        this.codes = manager.create(ByteBuffer.wrap(c), new Shape(c.length), packed ? DataType.UINT8 : DataType.INT8);
        if (t.doubleQuantized()) {
            byte[] sc = t.scaleCodes();
            this.scales = null;
            this.scaleCodes = manager.create(ByteBuffer.wrap(sc), new Shape(sc.length), DataType.UINT8);
            this.scaleAbsmax = manager.create(t.scaleAbsmax());
            this.scaleOffset = manager.create(new float[] {t.scaleOffset()});
        } else {
            this.scales = manager.create(t.rawScales());
            this.scaleCodes = null;
            this.scaleAbsmax = null;
            this.scaleOffset = null;
        }
        // the stored form outlives any scope it is created in
        NDScope.unregister(present(codes, scales, scaleCodes, scaleAbsmax, scaleOffset));
    }

    private static NDArray[] present(NDArray... arrays) {
        return java.util.Arrays.stream(arrays).filter(java.util.Objects::nonNull).toArray(NDArray[]::new);
    }

    /** Puts a host-quantized tensor on {@code manager}'s device. */
    static QuantizedWeight upload(BaseQuantizer quantizer, QuantizedTensor t, NDManager manager) {
        return new QuantizedWeight(quantizer, t, manager);
    }

    /** The quantizer that made this weight (to re-quantize a changed weight the same way). */
    public BaseQuantizer quantizer() {
        return quantizer;
    }

    /** Output width. */
    public long outFeatures() {
        return out;
    }

    /** Input width. */
    public long inFeatures() {
        return in;
    }

    /** The NDManager the stored arrays live on. */
    public NDManager manager() {
        return codes.getManager();
    }

    /** The float32 weight [out, in], computed now on the engine (attached to the current scope and graph). */
    public NDArray dequantize() {
        long blocks = out * in / blockSize;
        if (!packed) {
            NDArray w = codes.toType(DataType.FLOAT32, false).reshape(out, in).mul(scales.reshape(out, 1));
            return Scalars.mul(w, Int8RowFormat.INV_127);
        }
        NDArray pairs = quantizer.pairTable(codes.getManager()).get(codes.toType(DataType.INT64, false));
        NDArray s = scales != null ? scales : doubleQuantizedScales(blocks);
        return pairs.reshape(blocks, blockSize).mul(s.reshape(blocks, 1)).reshape(out, in);
    }

    private NDArray doubleQuantizedScales(long blocks) {
        NDArray v = quantizer.dynamicTable(codes.getManager()).get(scaleCodes.toType(DataType.INT64, false));
        int group = QuantizedTensor.SCALE_GROUP;
        long groups = scaleAbsmax.getShape().get(0);
        NDArray scaled;
        if (blocks % group == 0) {
            scaled = v.reshape(groups, group).mul(scaleAbsmax.reshape(groups, 1)).reshape(blocks);
        } else {
            long full = (groups - 1) * group;
            NDArray head = v.get(new NDIndex(":" + full)).reshape(groups - 1, group)
                    .mul(scaleAbsmax.get(new NDIndex(":" + (groups - 1))).reshape(groups - 1, 1)).reshape(full);
            NDArray tail = v.get(new NDIndex(full + ":")).mul(scaleAbsmax.get(new NDIndex((groups - 1) + ":")));
            scaled = head.concat(tail);
        }
        return scaled.add(scaleOffset);
    }

    /** Bytes of the stored codes. */
    public long codeBytes() {
        return codes.getShape().size() * codes.getDataType().getNumOfBytes();
    }

    /** Bytes of the stored scales (with double quantization: 8-bit codes, group absmax and the offset). */
    public long scaleBytes() {
        long n = 0;
        for (NDArray a : present(scales, scaleCodes, scaleAbsmax, scaleOffset)) {
            n += a.getShape().size() * a.getDataType().getNumOfBytes();
        }
        return n;
    }

    /** Everything this weight keeps resident: codes and scales. */
    public long residentBytes() {
        return codeBytes() + scaleBytes();
    }

    @Override
    public void close() {
        for (NDArray a : present(codes, scales, scaleCodes, scaleAbsmax, scaleOffset)) {
            a.close();
        }
    }
}
