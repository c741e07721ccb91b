package org.tribuopeft.adapters.quant;

/** bitsandbytes' 4-bit float (1 sign, 2 exponent, 1 mantissa bits), blockwise absmax scaling. */
public final class Fp4Format extends FourBitFormat {
    /** For {@link java.util.ServiceLoader}. */
    public Fp4Format() {
        super(CodeTable.fp4());
    }

    @Override
    public String name() {
        return "fp4";
    }

    @Override
    public String summary() {
        return "4-bit float (bitsandbytes FP4: sign, 2 exponent, 1 mantissa bits) with blockwise absmax scales";
    }
}
