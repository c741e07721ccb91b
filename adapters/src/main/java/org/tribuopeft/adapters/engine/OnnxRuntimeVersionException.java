package org.tribuopeft.adapters.engine;

/**
 * ONNX Runtime on the classpath is older than the version tribuo-peft was built against, usually
 * because another dependency (Tribuo's {@code tribuo-onnx} pins 1.20.0) won Maven's version choice.
 */
public class OnnxRuntimeVersionException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception with a message naming both versions and the fix. */
    public OnnxRuntimeVersionException(String message) {
        super(message);
    }
}
