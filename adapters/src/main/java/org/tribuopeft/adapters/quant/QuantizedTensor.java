package org.tribuopeft.adapters.quant;

import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * A frozen weight [out, in] in quantized form, in Java memory: the codes, and either one float32 scale per
 * block or double-quantized scales (8-bit codes of the scales minus their mean, with a float32 absmax per 256
 * scales, and the mean). Dequantizing gives {@code code_value[q] · scale[block]}, the float32 operations
 * bitsandbytes' PyTorch backend does.
 */
public final class QuantizedTensor {
    /** Scales per group of the second-level (double) quantization, as in QLoRA and bitsandbytes. */
    public static final int SCALE_GROUP = 256;

    private final String format;
    private final long[] shape;
    private final byte[] codes;
    private final boolean packed;
    private final int blockSize;
    private final float[] scales;
    private final byte[] scaleCodes;
    private final float[] scaleAbsmax;
    private final float scaleOffset;
    private final CodeTable table;
    private final float scaleFactor;

    QuantizedTensor(String format, long[] shape, byte[] codes, boolean packed, int blockSize, float[] scales,
                    byte[] scaleCodes, float[] scaleAbsmax, float scaleOffset, CodeTable table, float scaleFactor) {
        this.format = format;
        this.shape = shape.clone();
        this.codes = codes;
        this.packed = packed;
        this.blockSize = blockSize;
        this.scales = scales;
        this.scaleCodes = scaleCodes;
        this.scaleAbsmax = scaleAbsmax;
        this.scaleOffset = scaleOffset;
        this.table = table;
        this.scaleFactor = scaleFactor;
    }

    /** The format's registered name (nf4, fp4, int8). */
    public String format() {
        return format;
    }

    /** [out, in]. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of weights. */
    public long elementCount() {
        return shape[0] * shape[1];
    }

    /**
     * The stored codes: for 4-bit formats two per byte, the even-indexed weight in the high nibble (bitsandbytes'
     * packing); for int8 one signed byte per weight.
     */
    public byte[] codes() {
        return codes.clone();
    }

    /** True when two 4-bit codes share a byte. */
    public boolean packed() {
        return packed;
    }

    /** Weights per scale (the block size, or the row length for row-wise formats). */
    public int blockSize() {
        return blockSize;
    }

    /** Number of blocks (scales). */
    public int blockCount() {
        return (int) (elementCount() / blockSize);
    }

    /** True when the block scales are themselves quantized. */
    public boolean doubleQuantized() {
        return scaleCodes != null;
    }

    /** The float32 scale of every block: stored, or dequantized from the 8-bit scale codes. */
    public float[] blockScales() {
        if (scales != null) {
            return scales.clone();
        }
        CodeTable dyn = CodeTable.dynamic8();
        float[] out = new float[scaleCodes.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = dyn.value(scaleCodes[i] & 0xFF) * scaleAbsmax[i / SCALE_GROUP] + scaleOffset;
        }
        return out;
    }

    /** The 8-bit scale codes of a double-quantized tensor, indices into the 256-value dynamic map (null otherwise). */
    public byte[] scaleCodes() {
        return scaleCodes == null ? null : scaleCodes.clone();
    }

    /** The float32 absmax of every group of 256 scales (null unless double-quantized). */
    public float[] scaleAbsmax() {
        return scaleAbsmax == null ? null : scaleAbsmax.clone();
    }

    /** The mean removed from the scales before their quantization (0 unless double-quantized). */
    public float scaleOffset() {
        return scaleOffset;
    }

    /** The stored float32 scales (null when double-quantized). */
    float[] rawScales() {
        return scales;
    }

    /** The 4-bit code book (null for int8). */
    CodeTable table() {
        return table;
    }

    /** The constant factor applied after code × scale (1/127 for int8, 1 otherwise). */
    float scaleFactor() {
        return scaleFactor;
    }

    /** The code of weight {@code i} (row-major), 0..15 for 4-bit formats, -127..127 for int8. */
    public int code(long i) {
        if (!packed) {
            return codes[(int) i];
        }
        int b = codes[(int) (i / 2)] & 0xFF;
        return i % 2 == 0 ? b >>> 4 : b & 0x0F;
    }

    /** The float32 weights these codes stand for, computed in the same order of float32 operations as the engine. */
    public HostTensor dequantize() {
        float[] s = blockScales();
        float[] out = new float[(int) elementCount()];
        for (int i = 0; i < out.length; i++) {
            float q = packed ? table.value(code(i)) : (float) code(i);
            float v = q * s[i / blockSize];
            out[i] = scaleFactor == 1f ? v : v * scaleFactor;
        }
        return new HostTensor(shape, out);
    }

    /** Bytes of the codes. */
    public long codeBytes() {
        return codes.length;
    }

    /** Bytes of the scales: float32 each, or 8-bit codes plus a float32 absmax per 256 and the float32 offset. */
    public long scaleBytes() {
        if (scales != null) {
            return 4L * scales.length;
        }
        return scaleCodes.length + 4L * scaleAbsmax.length + 4L;
    }
}
