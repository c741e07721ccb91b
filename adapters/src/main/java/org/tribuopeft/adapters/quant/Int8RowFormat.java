package org.tribuopeft.adapters.quant;

import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * LLM.int8()'s weight storage without outliers (bitsandbytes' {@code int8_vectorwise_quant} at threshold 0): each
 * row of [out, in] is scaled by 127 / its absmax (float32) and rounded half to even to a signed byte;
 * dequantizing is {@code q · absmax · (1/127)} as its {@code int8_vectorwise_dequant}. A row of zeros stays zero.
 */
public final class Int8RowFormat implements QuantFormat {
    /** 1/127 as the float32 bitsandbytes multiplies by. */
    static final float INV_127 = (float) 7.874015718698502e-3;

    /** For {@link java.util.ServiceLoader}. */
    public Int8RowFormat() { }

    @Override
    public String name() {
        return "int8";
    }

    @Override
    public String summary() {
        return "8-bit integers with one float32 absmax per output row (LLM.int8 storage, no outlier columns): "
                + "8 bits per weight plus 32 per row";
    }

    @Override
    public boolean blockwise() {
        return false;
    }

    @Override
    public QuantizedTensor quantize(HostTensor weight, int blockSize, boolean doubleQuant) {
        if (doubleQuant) {
            throw new IllegalArgumentException("int8 stores one scale per row; double quantization applies to the "
                    + "block scales of nf4 and fp4 only");
        }
        long[] shape = FourBitFormat.checkWeight(weight, name());
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        float[] w = weight.data();
        byte[] codes = new byte[w.length];
        float[] absmax = new float[rows];
        for (int r = 0; r < rows; r++) {
            float m = 0f;
            for (int c = 0; c < cols; c++) {
                m = Math.max(m, Math.abs(w[r * cols + c]));
            }
            absmax[r] = m;
            if (m == 0f) {
                continue;
            }
            float factor = 127f / m;
            for (int c = 0; c < cols; c++) {
                codes[r * cols + c] = (byte) Math.rint(w[r * cols + c] * factor);
            }
        }
        return new QuantizedTensor(name(), shape, codes, false, cols, absmax, null, null, 0f, null, INV_127);
    }
}
