package org.tribuopeft.adapters.quant;

/** QLoRA's 4-bit NormalFloat: 16 quantiles of a normal distribution, blockwise absmax scaling (4 bits + scales). */
public final class Nf4Format extends FourBitFormat {
    /** For {@link java.util.ServiceLoader}. */
    public Nf4Format() {
        super(CodeTable.nf4());
    }

    @Override
    public String name() {
        return "nf4";
    }

    @Override
    public String summary() {
        return "4-bit NormalFloat (QLoRA) with blockwise absmax scales: 4.5 bits per weight at block 64, "
                + "about 4.127 with double quantization";
    }
}
