package org.tribuopeft.adapters.tensor;

/**
 * Exact widening of 16-bit float formats to float32, done in Java because DJL 0.35 crashes on
 * BF16 tensors and Java 17 has no half-float conversion.
 */
public final class FloatBits {
    private FloatBits() {}

    /** bfloat16 to float32: the 16 bits are the top half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** IEEE 754 binary16 to binary32, exact for every value including subnormals, infinities and NaN. */
    public static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // zero or subnormal: value = mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
