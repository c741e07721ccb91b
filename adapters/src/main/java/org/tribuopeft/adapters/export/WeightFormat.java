package org.tribuopeft.adapters.export;

import java.util.Locale;

/**
 * How an ONNX export stores the weights of the encoder's Linear layers: float32, or quantized per block
 * of {@code blockSize} input rows for ONNX Runtime's {@code MatMulNBits} operator (domain
 * {@code com.microsoft}) with 8 or 4 bits per weight. Embeddings, LayerNorms, biases and the task head
 * always stay float32.
 *
 * <p>Written as {@code float32}, {@code int8[:BLOCK]} or {@code int4[:BLOCK]}, optionally followed by
 * {@code :symmetric} (no zero points: the code {@code 2^(bits-1)} is 0) and {@code :int8-compute} (ONNX
 * Runtime's accuracy level 4: it quantizes the activations to int8 per block as well, faster on CPUs with
 * integer dot products). Without {@code :symmetric} each block has its own zero point (min/max range),
 * which kept held-out accuracy closest to float32 in our measurements. The default block size is 32.
 *
 * @param bits 32 for float32, or 8 or 4
 * @param blockSize weights per quantization block along the input dimension (0 for float32)
 * @param zeroPoints whether each block stores a zero point (asymmetric range)
 * @param int8Compute whether ONNX Runtime may quantize the activations to int8 (accuracy level 4)
 */
public record WeightFormat(int bits, int blockSize, boolean zeroPoints, boolean int8Compute) {
    /** The float32 format: every weight as written by training. */
    public static final WeightFormat FLOAT32 = new WeightFormat(32, 0, false, false);

    /** The block size used when a quantized format names none. */
    public static final int DEFAULT_BLOCK_SIZE = 32;

    /** The smallest block size ONNX Runtime's {@code MatMulNBits} accepts. */
    public static final int MIN_BLOCK_SIZE = 16;

    /** The largest block size ONNX Runtime's CPU kernels (MLAS) implement. */
    public static final int MAX_BLOCK_SIZE = 256;

    /** Checks the combination: 32 bits has no blocks; 8 and 4 bits need a power-of-two block in [16, 256]. */
    public WeightFormat {
        if (bits == 32) {
            if (blockSize != 0 || zeroPoints || int8Compute) {
                throw new WeightFormatException("float32 weights have no block size, zero points or int8 compute; "
                        + "use int8 or int4 to quantize");
            }
        } else if (bits == 8 || bits == 4) {
            if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
                throw new WeightFormatException("block size " + blockSize + " is not supported by ONNX Runtime's "
                        + "MatMulNBits: use a power of two from " + MIN_BLOCK_SIZE + " to " + MAX_BLOCK_SIZE
                        + " (16, 32, 64, 128 or 256)");
            }
        } else {
            throw new WeightFormatException("weights can be stored with 32 (float32), 8 (int8) or 4 (int4) bits, not "
                    + bits);
        }
    }

    /**
     * Reads a format as the command line and metadata write it ({@code float32}, {@code int8},
     * {@code int4:64}, {@code int4:128:symmetric}, {@code int8:32:int8-compute}).
     *
     * @throws WeightFormatException naming the bad part and the accepted forms
     */
    public static WeightFormat parse(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split(":", -1);
        int bits = switch (parts[0]) {
            case "float32", "fp32" -> 32;
            case "int8" -> 8;
            case "int4" -> 4;
            default -> throw new WeightFormatException("unknown weight format '" + text + "': use float32, "
                    + "int8[:BLOCK] or int4[:BLOCK], optionally followed by :symmetric and/or :int8-compute");
        };
        if (bits == 32) {
            if (parts.length > 1) {
                throw new WeightFormatException("weight format '" + text + "': float32 takes no block size or options");
            }
            return FLOAT32;
        }
        int block = DEFAULT_BLOCK_SIZE;
        boolean zeroPoints = true;
        boolean int8Compute = false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i];
            if (p.equals("symmetric")) {
                zeroPoints = false;
            } else if (p.equals("int8-compute")) {
                int8Compute = true;
            } else if (i == 1 && !p.isEmpty() && p.chars().allMatch(Character::isDigit)) {
                try {
                    block = Integer.parseInt(p);
                } catch (NumberFormatException e) {
                    throw new WeightFormatException("block size " + p + " in weight format '" + text + "' is too large; "
                            + "use 16, 32, 64, 128 or 256");
                }
            } else {
                throw new WeightFormatException("weight format '" + text + "': '" + p + "' is neither a block size "
                        + "(second part) nor one of the options symmetric, int8-compute");
            }
        }
        return new WeightFormat(bits, block, zeroPoints, int8Compute);
    }

    /** A quantized format with zero points and float32 compute. */
    public static WeightFormat quantized(int bits, int blockSize) {
        return new WeightFormat(bits, blockSize, true, false);
    }

    /** Whether the Linear weights are quantized (not float32). */
    public boolean isQuantized() {
        return bits != 32;
    }

    /** ONNX Runtime's {@code accuracy_level} attribute: 4 (int8 activations) or 0 (unset: float32). */
    public int accuracyLevel() {
        return int8Compute ? 4 : 0;
    }

    /**
     * Checks that a Linear with {@code inputs} input features can be stored in this format: its input
     * width must be a multiple of the block size, so that no block is padded.
     *
     * @param module the Linear's module name, for the message
     * @param inputs the Linear's input width K
     * @throws WeightFormatException naming the module, its width and the block size
     */
    public void checkFits(String module, long inputs) {
        if (isQuantized() && inputs % blockSize != 0) {
            throw new WeightFormatException("block size " + blockSize + " does not suit " + module + ": its input "
                    + "width " + inputs + " is not a multiple of " + blockSize + "; choose a block size that divides "
                    + inputs);
        }
    }

    /** The canonical written form, which {@link #parse} reads back. */
    @Override
    public String toString() {
        if (!isQuantized()) {
            return "float32";
        }
        return "int" + bits + ":" + blockSize + (zeroPoints ? "" : ":symmetric") + (int8Compute ? ":int8-compute" : "");
    }
}
