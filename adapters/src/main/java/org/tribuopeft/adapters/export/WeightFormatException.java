package org.tribuopeft.adapters.export;

/**
 * A weight format for an ONNX export that cannot be written: an unknown name, a block size that ONNX
 * Runtime's {@code MatMulNBits} does not accept, a block size that does not divide a Linear's input
 * width, or a quantized format asked of an export form that keeps its weights float32. Raised before
 * any file is written.
 */
public final class WeightFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** An exception with a message that names the bad value and what to use instead. */
    public WeightFormatException(String message) {
        super(message);
    }
}
