package org.tribuopeft.adapters.quant;

import org.tribuopeft.adapters.tensor.HostTensor;

/**
 * One way of storing a frozen Linear weight in fewer bits, registered once (a line in
 * {@code META-INF/services/org.tribuopeft.adapters.quant.QuantFormat}) and found through {@link QuantRegistry} by
 * the name a {@link BaseQuantization} component gives, so the trainer, the encoder and the reports never name a
 * format.
 */
public interface QuantFormat {
    /** The lower-case name used in configuration ({@code <property name="type" value="nf4"/>}) and reports. */
    String name();

    /** One sentence for the configuration reference: what the format stores and its cost in bits per weight. */
    String summary();

    /** True when the format scales blocks of {@code blockSize} weights (and can double-quantize the scales). */
    boolean blockwise();

    /**
     * Quantizes one weight on the host.
     *
     * @param weight [out, in], finite float32 values
     * @param blockSize weights per scale (ignored by row-wise formats); divides {@code in}
     * @param doubleQuant quantize the block scales to 8 bits too (only for {@link #blockwise()} formats)
     */
    QuantizedTensor quantize(HostTensor weight, int blockSize, boolean doubleQuant);
}
