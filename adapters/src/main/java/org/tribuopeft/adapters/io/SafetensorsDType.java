package org.tribuopeft.adapters.io;

import org.tribuopeft.adapters.tensor.FloatBits;

import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/** The element types a safetensors header may name, with their byte widths. */
public enum SafetensorsDType {
    /** 64-bit IEEE float. */
    F64(8, true),
    /** 32-bit IEEE float. */
    F32(4, true),
    /** 16-bit IEEE half float. */
    F16(2, true),
    /** bfloat16: the top 16 bits of a float32. */
    BF16(2, true),
    /** 64-bit signed integer. */
    I64(8, false),
    /** 32-bit signed integer. */
    I32(4, false),
    /** 16-bit signed integer. */
    I16(2, false),
    /** 8-bit signed integer. */
    I8(1, false),
    /** 8-bit unsigned integer. */
    U8(1, false),
    /** One byte per boolean. */
    BOOL(1, false);

    private final int bytes;
    private final boolean floatingPoint;

    SafetensorsDType(int bytes, boolean floatingPoint) {
        this.bytes = bytes;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for the types that convert to float32 weights. */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** Looks a header's dtype string up; empty when it is not one we know. */
    public static Optional<SafetensorsDType> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Decodes {@code count} little-endian elements of this floating-point type from {@code src} into
     * float32. F16 and BF16 are widened exactly (BF16 by shifting its bits into the top half, which
     * also avoids DJL 0.35's crash on BF16 tensors).
     */
    public void decodeFloats(ByteBuffer src, float[] dst) {
        switch (this) {
            case F32 -> src.asFloatBuffer().get(dst);
            case F64 -> {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = (float) src.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = FloatBits.halfToFloat(src.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < dst.length; i++) {
                    dst[i] = FloatBits.bf16ToFloat(src.getShort(i * 2));
                }
            }
            default -> throw new IllegalStateException(this + " is not a floating-point type");
        }
    }
}
