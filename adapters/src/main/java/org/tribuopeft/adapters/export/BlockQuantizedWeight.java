package org.tribuopeft.adapters.export;

import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * One Linear weight quantized for ONNX Runtime's {@code MatMulNBits} operator, in exactly the layout the
 * operator reads. The weight {@code W} [N outputs, K inputs] is cut, along K, into blocks of
 * {@code blockSize}; each block of each output row has a float scale and (optionally) a zero point, and
 * each weight becomes the integer code {@code q} with {@code W[n, k] ≈ (q − zeroPoint) · scale}.
 * <ul>
 *   <li>{@code packed}: uint8 [N, K / blockSize, blockSize · bits / 8]; with 4 bits two codes per byte,
 *   the even k in the low nibble;</li>
 *   <li>{@code scales}: float [N · K / blockSize], row n's blocks in order;</li>
 *   <li>{@code zeroPoints}: uint8 [N, ceil(blocks · bits / 8)] packed like the codes (4 bits: two per
 *   byte, even block low), or null for the symmetric form, whose zero point is {@code 2^(bits−1)}.</li>
 * </ul>
 * The arrays are shared, not copied: callers must not change them.
 *
 * @param outputs N, the Linear's output width
 * @param inputs K, the Linear's input width (a multiple of the block size)
 * @param format the bits, block size and zero-point choice
 * @param packed the codes
 * @param scales the per-block scales
 * @param zeroPoints the per-block zero points, or null when the format has none
 */
public record BlockQuantizedWeight(int outputs, int inputs, WeightFormat format, byte[] packed, float[] scales,
                                   byte[] zeroPoints) {
    /** Checks the array lengths against the shape. */
    public BlockQuantizedWeight {
        if (!format.isQuantized()) {
            throw new WeightFormatException("a block-quantized weight needs int8 or int4, not " + format);
        }
        format.checkFits("a weight of " + outputs + " × " + inputs, inputs);
        int blocks = inputs / format.blockSize();
        if (packed.length != outputs * blocks * blobSize(format) || scales.length != outputs * blocks
                || (zeroPoints == null) == format.zeroPoints()
                || (zeroPoints != null && zeroPoints.length != outputs * zeroPointBytesPerRow(format, blocks))) {
            throw new IllegalArgumentException("array lengths do not match a " + format + " weight of " + outputs
                    + " × " + inputs);
        }
    }

    /** Bytes that hold one block's codes. */
    public static int blobSize(WeightFormat format) {
        return format.blockSize() * format.bits() / 8;
    }

    /** Bytes that hold one output row's zero points. */
    public static int zeroPointBytesPerRow(WeightFormat format, int blocks) {
        return (blocks * format.bits() + 7) / 8;
    }

    /**
     * Quantizes a weight in PyTorch's layout [out, in]. With zero points, a block's range is
     * [min(0, min w), max(0, max w)] spread over all {@code 2^bits} codes, so 0 stays exact; without, the
     * scale is {@code max |w| / (2^(bits−1) − 1)} and the codes are symmetric around {@code 2^(bits−1)}.
     * Codes are rounded to nearest (ties to even).
     *
     * @param weight the weight [N, K]
     * @param format int8 or int4 with a block size that divides K
     * @param module the Linear's name, for messages
     */
    public static BlockQuantizedWeight quantize(HostTensor weight, WeightFormat format, String module) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(module + ": a Linear weight has 2 dimensions, got " + weight);
        }
        int n = (int) weight.dim(0);
        int k = (int) weight.dim(1);
        format.checkFits(module, k);
        int bs = format.blockSize();
        int blocks = k / bs;
        int bits = format.bits();
        int maxCode = (1 << bits) - 1;
        int mid = 1 << (bits - 1);
        float[] w = weight.data();
        byte[] packed = new byte[n * blocks * blobSize(format)];
        float[] scales = new float[n * blocks];
        int zpRow = zeroPointBytesPerRow(format, blocks);
        byte[] zeroPoints = format.zeroPoints() ? new byte[n * zpRow] : null;
        for (int row = 0; row < n; row++) {
            for (int b = 0; b < blocks; b++) {
                int start = row * k + b * bs;
                float scale;
                int zero;
                if (format.zeroPoints()) {
                    float lo = 0f;
                    float hi = 0f;
                    for (int i = 0; i < bs; i++) {
                        lo = Math.min(lo, w[start + i]);
                        hi = Math.max(hi, w[start + i]);
                    }
                    scale = (hi - lo) / maxCode;
                    zero = scale == 0f ? mid : clamp((int) Math.rint(-lo / scale), 0, maxCode);
                    setCode(zeroPoints, row * zpRow, b, bits, zero);
                } else {
                    float amax = 0f;
                    for (int i = 0; i < bs; i++) {
                        amax = Math.max(amax, Math.abs(w[start + i]));
                    }
                    scale = amax / (mid - 1);
                    zero = mid;
                }
                scales[row * blocks + b] = scale;
                int base = (row * blocks + b) * blobSize(format);
                for (int i = 0; i < bs; i++) {
                    int q = scale == 0f ? zero : clamp((int) Math.rint(w[start + i] / scale) + zero, 0, maxCode);
                    setCode(packed, base, i, bits, q);
                }
            }
        }
        return new BlockQuantizedWeight(n, k, format, packed, scales, zeroPoints);
    }

    /** The code of weight [n, k], in [0, 2^bits). */
    public int code(int n, int k) {
        int bs = format.blockSize();
        int blocks = inputs / bs;
        return getCode(packed, (n * blocks + k / bs) * blobSize(format), k % bs, format.bits());
    }

    /** The zero point of output row n's block b: stored, or {@code 2^(bits−1)} for the symmetric form. */
    public int zeroPoint(int n, int block) {
        if (zeroPoints == null) {
            return 1 << (format.bits() - 1);
        }
        int blocks = inputs / format.blockSize();
        return getCode(zeroPoints, n * zeroPointBytesPerRow(format, blocks), block, format.bits());
    }

    /** The scale of output row n's block b. */
    public float scale(int n, int block) {
        return scales[n * (inputs / format.blockSize()) + block];
    }

    /** The weight ONNX Runtime computes with, {@code (q − zeroPoint) · scale}, as [N, K] float32. */
    public HostTensor dequantize() {
        float[] out = new float[outputs * inputs];
        for (int n = 0; n < outputs; n++) {
            for (int k = 0; k < inputs; k++) {
                int b = k / format.blockSize();
                out[n * inputs + k] = (code(n, k) - zeroPoint(n, b)) * scale(n, b);
            }
        }
        return new HostTensor(new long[] {outputs, inputs}, out);
    }

    /** Bytes this weight takes in the file (codes, scales and zero points). */
    public long bytes() {
        return packed.length + 4L * scales.length + (zeroPoints == null ? 0 : zeroPoints.length);
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** Writes code {@code index} of the run starting at byte {@code base}: a byte, or a nibble (even index low). */
    private static void setCode(byte[] bytes, int base, int index, int bits, int code) {
        if (bits == 8) {
            bytes[base + index] = (byte) code;
        } else {
            int at = base + index / 2;
            int shift = (index % 2) * 4;
            bytes[at] = (byte) ((bytes[at] & ~(0xF << shift)) | (code << shift));
        }
    }

    private static int getCode(byte[] bytes, int base, int index, int bits) {
        if (bits == 8) {
            return bytes[base + index] & 0xFF;
        }
        return ((bytes[base + index / 2] & 0xFF) >> ((index % 2) * 4)) & 0xF;
    }
}
