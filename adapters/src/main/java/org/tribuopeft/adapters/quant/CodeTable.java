package org.tribuopeft.adapters.quant;

import java.util.Arrays;

/**
 * A quantization code book: the values a code stands for, and the nearest-code rule of bitsandbytes'
 * PyTorch backend ({@code bitsandbytes/backends/default/ops.py}): the boundaries are the float32 midpoints
 * of neighbouring values in sorted order, and {@code torch.bucketize(x, bounds)} picks the first boundary
 * that is {@code >= x}, so a value exactly on a midpoint takes the lower code.
 */
public final class CodeTable {
    /** bitsandbytes' NF4 values ({@code get_4bit_type("nf4")}), code 0 to 15. */
    private static final float[] NF4 = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
        0.7229568362236023f, 1.0f};

    /**
     * bitsandbytes' FP4 (1 sign, 2 exponent, 1 mantissa bits, bias 2) in bit-pattern order, before division by 12;
     * code 8 ({@code -0} in its source, a Python int) is +0.
     */
    private static final float[] FP4_RAW = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f, 0f, -0.0625f, -8f, -12f, -4f, -6f,
        -2f, -3f};

    private static final CodeTable NF4_TABLE = new CodeTable("nf4", NF4.clone());
    private static final CodeTable FP4_TABLE = buildFp4();
    private static final CodeTable DYNAMIC8_TABLE = buildDynamic8();

    private final String name;
    private final float[] values;
    private final float[] bounds;
    private final int[] order;

    private CodeTable(String name, float[] values) {
        this.name = name;
        this.values = values;
        Integer[] idx = new Integer[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        // a stable sort by value, with -0 == 0 as torch compares them, so +0 (code 0) comes before -0 (code 8)
        Arrays.sort(idx, (a, b) -> Float.compare(values[a] == 0f ? 0f : values[a], values[b] == 0f ? 0f : values[b]));
        order = new int[values.length];
        for (int i = 0; i < idx.length; i++) {
            order[i] = idx[i];
        }
        bounds = new float[values.length - 1];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = (values[order[i]] + values[order[i + 1]]) / 2f;
        }
    }

    /** The NF4 code book (QLoRA's 4-bit NormalFloat). */
    public static CodeTable nf4() {
        return NF4_TABLE;
    }

    /** The FP4 code book: bitsandbytes' table divided by its largest magnitude (12) in float32. */
    public static CodeTable fp4() {
        return FP4_TABLE;
    }

    private static CodeTable buildFp4() {
        float[] v = new float[16];
        for (int i = 0; i < 16; i++) {
            v[i] = FP4_RAW[i] / 12f;
        }
        return new CodeTable("fp4", v);
    }

    /**
     * bitsandbytes' signed dynamic 8-bit map ({@code create_dynamic_map(signed=True)}), the code book of the block
     * scales under double quantization: for each decade exponent i = 0..6, the midpoints of a float32
     * {@code linspace(0.1, 1, 2^i + 1)} times 10^(i-6), with both signs, plus 0 and 1, sorted.
     */
    public static CodeTable dynamic8() {
        return DYNAMIC8_TABLE;
    }

    private static CodeTable buildDynamic8() {
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < 7; i++) {
            float[] boundaries = torchLinspace(0.1f, 1f, (1 << i) + 1);
            // torch multiplies a float32 tensor by a Python float in float32
            float decade = (float) Double.parseDouble("1e" + (i - 6));
            for (int k = 0; k + 1 < boundaries.length; k++) {
                float mean = (boundaries[k] + boundaries[k + 1]) / 2f;
                data[n++] = decade * mean;
                data[n++] = -(decade * mean);
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        if (n != 256) {
            throw new IllegalStateException("dynamic map has " + n + " values, not 256");
        }
        Arrays.sort(data);
        return new CodeTable("dynamic8", data);
    }

    /**
     * {@code torch.linspace} in float32 as PyTorch's CPU kernel computes it: step = (end - start) / (steps - 1); the
     * first half counts up from start, the second half down from end.
     */
    static float[] torchLinspace(float start, float end, int steps) {
        float[] out = new float[steps];
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < half ? start + step * i : end - step * (steps - i - 1);
        }
        return out;
    }

    /** The code book's name (nf4, fp4, dynamic8). */
    public String name() {
        return name;
    }

    /** Number of codes. */
    public int size() {
        return values.length;
    }

    /** The value of one code. */
    public float value(int code) {
        return values[code];
    }

    /** Every value, by code (a copy). */
    public float[] values() {
        return values.clone();
    }

    /**
     * The code of the nearest value to a scaled input in [-1, 1], ties to the lower value (bitsandbytes'
     * bucketize rule).
     */
    public int nearest(float scaled) {
        int lo = 0;
        int hi = bounds.length;
        // first boundary >= scaled
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (bounds[mid] < scaled) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return order[lo];
    }
}
