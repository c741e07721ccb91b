package org.tribuopeft.adapters.quant;

import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * A 4-bit code book with blockwise absmax scaling, as bitsandbytes' {@code quantize_4bit}: each block of
 * {@code blockSize} consecutive weights (row-major [out, in]) is divided by its largest magnitude (in float32, by
 * multiplying with the reciprocal, clamped to [-1, 1]) and each value takes the nearest code; two codes share a
 * byte, the even-indexed weight in the high nibble. With double quantization the float32 block scales lose their
 * mean and are quantized blockwise (256 per block) to bitsandbytes' signed dynamic 8-bit map, as
 * {@code quantize_4bit(compress_statistics=True)} does.
 */
public abstract class FourBitFormat implements QuantFormat {
    /** The smallest magnitude bitsandbytes divides by ({@code absmax.clamp(min=1e-38)}). */
    static final float MIN_ABSMAX = 1e-38f;

    private final CodeTable table;

    /**
     * A 4-bit format over a code book.
     *
     * @param table the 16 code values
     */
    protected FourBitFormat(CodeTable table) {
        this.table = table;
    }

    /** The 16 code values. */
    public CodeTable table() {
        return table;
    }

    @Override
    public boolean blockwise() {
        return true;
    }

    @Override
    public QuantizedTensor quantize(HostTensor weight, int blockSize, boolean doubleQuant) {
        long[] shape = checkWeight(weight, name());
        float[] w = weight.data();
        if (blockSize <= 0 || w.length % blockSize != 0 || shape[1] % blockSize != 0) {
            throw new IllegalArgumentException("blockSize " + blockSize + " does not divide the in-features "
                    + shape[1] + " of a " + shape[0] + "x" + shape[1] + " weight; choose a block size that divides it");
        }
        if (blockSize % 2 != 0) {
            throw new IllegalArgumentException("blockSize " + blockSize + " is odd; 4-bit codes are stored in pairs");
        }
        int blocks = w.length / blockSize;
        float[] absmax = new float[blocks];
        byte[] packedCodes = new byte[w.length / 2];
        for (int b = 0; b < blocks; b++) {
            int from = b * blockSize;
            float m = 0f;
            for (int i = from; i < from + blockSize; i++) {
                m = Math.max(m, Math.abs(w[i]));
            }
            absmax[b] = m;
            float inv = 1f / Math.max(m, MIN_ABSMAX);
            for (int i = from; i < from + blockSize; i += 2) {
                int hi = table.nearest(clamp(w[i] * inv));
                int lo = table.nearest(clamp(w[i + 1] * inv));
                packedCodes[i / 2] = (byte) ((hi << 4) | lo);
            }
        }
        if (!doubleQuant) {
            return new QuantizedTensor(name(), shape, packedCodes, true, blockSize, absmax, null, null, 0f, table, 1f);
        }
        ScaleCodes sc = ScaleCodes.of(absmax);
        return new QuantizedTensor(name(), shape, packedCodes, true, blockSize, null, sc.codes(), sc.absmax(),
                sc.offset(), table, 1f);
    }

    static float clamp(float v) {
        return Math.max(-1f, Math.min(1f, v));
    }

    /** Checks a weight is [out, in] and finite; returns its shape. */
    static long[] checkWeight(HostTensor weight, String format) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(format + " quantizes Linear weights [out, in], got shape "
                    + java.util.Arrays.toString(weight.shape()));
        }
        float[] w = weight.data();
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("weight value " + i + " is " + w[i] + "; a weight with non-finite "
                        + "values cannot be quantized (" + format + ")");
            }
        }
        return weight.shape();
    }

    /**
     * Double quantization of block scales: the mean is removed, then groups of 256 are scaled by their absmax and
     * take the nearest value of the dynamic 8-bit map (bitsandbytes' {@code quantize_blockwise}; a last partial group
     * is divided by its absmax, as its source does, rather than multiplied by the reciprocal).
     *
     * @param codes 8-bit codes, one per scale
     * @param absmax float32 absmax per group of 256
     * @param offset the mean removed
     */
    record ScaleCodes(byte[] codes, float[] absmax, float offset) {
        static ScaleCodes of(float[] scales) {
            // torch reduces the mean in float32 with its own summation order; the sum here is in double, then rounded
            double sum = 0;
            for (float s : scales) {
                sum += s;
            }
            float offset = (float) (sum / scales.length);
            CodeTable dyn = CodeTable.dynamic8();
            int group = QuantizedTensor.SCALE_GROUP;
            int groups = (scales.length + group - 1) / group;
            byte[] codes = new byte[scales.length];
            float[] absmax = new float[groups];
            for (int g = 0; g < groups; g++) {
                int from = g * group;
                int to = Math.min(scales.length, from + group);
                float m = 0f;
                for (int i = from; i < to; i++) {
                    m = Math.max(m, Math.abs(scales[i] - offset));
                }
                absmax[g] = m;
                float am = Math.max(m, MIN_ABSMAX);
                boolean full = to - from == group;
                float inv = 1f / am;
                for (int i = from; i < to; i++) {
                    float centered = scales[i] - offset;
                    codes[i] = (byte) dyn.nearest(clamp(full ? centered * inv : centered / am));
                }
            }
            return new ScaleCodes(codes, absmax, offset);
        }
    }
}
