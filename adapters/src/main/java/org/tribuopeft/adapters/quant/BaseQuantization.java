package org.tribuopeft.adapters.quant;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.Configurable;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenancable;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How the frozen base is stored while an adapter trains on it (QLoRA): the Linear weights of the encoder are kept
 * in a registered {@link QuantFormat} (nf4, fp4, int8) and dequantized to float32 per layer inside the forward pass;
 * embeddings, LayerNorms and biases stay float32. A configuration component of the trainer, recorded in provenance
 * so that a saved model rebuilds the same base.
 */
public final class BaseQuantization implements Configurable, Provenancable<ConfiguredObjectProvenance> {
    /** Block sizes bitsandbytes accepts for 4-bit quantization. */
    public static final List<Integer> BLOCK_SIZES = List.of(32, 64, 128, 256, 512, 1024, 2048, 4096);
    /** The one compute type on the CPU engine (DJL 0.35.1 crashes on bfloat16 tensors). */
    public static final String FLOAT32 = "float32";

    @Config(mandatory = true, description = "The storage format of the frozen Linear weights: a registered "
            + "quantization format (nf4, fp4 or int8).")
    private String type;

    @Config(description = "Weights per absmax scale for nf4 and fp4 (bitsandbytes' sizes 32 to 4096, powers of two); "
            + "must divide the input width of every Linear of the backbone. int8 scales whole rows and ignores it.")
    private int blockSize = 64;

    @Config(description = "Double quantization (QLoRA): the block scales lose their mean and are stored as 8-bit codes "
            + "in blocks of 256, about 0.127 instead of 0.5 bits of overhead per weight at block 64; nf4 and fp4 only.")
    private boolean doubleQuant = false;

    @Config(description = "The type the dequantized weights are computed in; float32 is the one the CPU engine runs.")
    private String computeType = FLOAT32;

    private QuantFormat format;

    /** For OLCUT. */
    private BaseQuantization() { }

    /**
     * Quantization settings, validated.
     *
     * @param type a registered format name (nf4, fp4, int8)
     * @param blockSize weights per scale for nf4 and fp4
     * @param doubleQuant quantize the block scales to 8 bits too
     * @throws PropertyException naming the field at fault
     */
    public BaseQuantization(String type, int blockSize, boolean doubleQuant) {
        this.type = type;
        this.blockSize = blockSize;
        this.doubleQuant = doubleQuant;
        postConfig();
    }

    /** QLoRA's setting: NF4, block 64, double quantization. */
    public static BaseQuantization qlora() {
        return new BaseQuantization("nf4", 64, true);
    }

    @Override
    public void postConfig() {
        format = QuantRegistry.find(type).orElseThrow(() -> new PropertyException("", "type", "quantization type '"
                + type + "' is not registered; use one of " + QuantRegistry.names()));
        type = format.name();
        if (format.blockwise() && !BLOCK_SIZES.contains(blockSize)) {
            throw new PropertyException("", "blockSize", "blockSize " + blockSize + " is not one of " + BLOCK_SIZES
                    + " (bitsandbytes' block sizes for " + type + ")");
        }
        if (doubleQuant && !format.blockwise()) {
            throw new PropertyException("", "doubleQuant", "doubleQuant=true needs block scales, which " + type
                    + " does not have (it scales whole rows); use nf4 or fp4, or set doubleQuant=false");
        }
        String ct = computeType == null ? "" : computeType.trim().toLowerCase(Locale.ROOT);
        if (!ct.equals(FLOAT32)) {
            throw new PropertyException("", "computeType", "computeType '" + computeType + "' is not supported; the "
                    + "CPU engine computes the dequantized weights in float32");
        }
        computeType = ct;
    }

    /**
     * Checks that the block size divides the input width of every Linear, so no block straddles two rows.
     *
     * @param model the backbone, for the message
     * @param inWidths the input widths of the backbone's Linears (hidden and intermediate size)
     * @throws IllegalArgumentException naming blockSize, the width and the sizes that would divide it
     */
    public void checkFits(String model, int... inWidths) {
        if (!format.blockwise()) {
            return;
        }
        for (int w : inWidths) {
            if (w % blockSize != 0) {
                List<Integer> fitting = BLOCK_SIZES.stream().filter(b -> java.util.Arrays.stream(inWidths)
                        .allMatch(x -> x % b == 0)).toList();
                throw new IllegalArgumentException("quantization blockSize " + blockSize + " does not divide the "
                        + "input width " + w + " of the Linear layers of '" + model + "'; use one of " + fitting);
            }
        }
    }

    /** The registered format. */
    public QuantFormat format() {
        return format;
    }

    /** The format's name. */
    public String type() {
        return type;
    }

    /** Weights per scale (for blockwise formats). */
    public int blockSize() {
        return blockSize;
    }

    /** Whether the block scales are quantized too. */
    public boolean doubleQuant() {
        return doubleQuant;
    }

    /** The compute type of the dequantized weights ({@value #FLOAT32}). */
    public String computeType() {
        return computeType;
    }

    /** A quantizer for one encoder build (it keeps that encoder's code tables). */
    public BaseQuantizer quantizer() {
        return new BaseQuantizer(this);
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "quantization");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BaseQuantization q && q.type.equals(type) && q.blockSize == blockSize
                && q.doubleQuant == doubleQuant && q.computeType.equals(computeType);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, blockSize, doubleQuant, computeType);
    }

    @Override
    public String toString() {
        return type + (format.blockwise() ? "(blockSize=" + blockSize + ", doubleQuant=" + doubleQuant : "(rows")
                + ", computeType=" + computeType + ")";
    }
}
