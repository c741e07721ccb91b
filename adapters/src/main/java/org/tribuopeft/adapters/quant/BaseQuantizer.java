package org.tribuopeft.adapters.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Quantizes the frozen Linear weights of one encoder with one {@link BaseQuantization}, and holds the code tables
 * their dequantization looks values up in, once per NDManager: for 4-bit formats a [256, 2] table giving both
 * nibbles' values of every packed byte, and the 256-value dynamic map of double-quantized scales.
 */
public final class BaseQuantizer {
    private final BaseQuantization settings;
    private final QuantFormat format;
    private final Map<NDManager, NDArray> pairTables = new IdentityHashMap<>();
    private final Map<NDManager, NDArray> dynamicTables = new IdentityHashMap<>();

    BaseQuantizer(BaseQuantization settings) {
        this.settings = settings;
        this.format = settings.format();
    }

    /** The settings. */
    public BaseQuantization settings() {
        return settings;
    }

    /**
     * Quantizes a weight on the host and stores the result on {@code manager}'s device.
     *
     * @param weight [out, in]
     */
    public QuantizedWeight quantize(HostTensor weight, NDManager manager) {
        return upload(format.quantize(weight, settings.blockSize(), settings.doubleQuant()), manager);
    }

    /**
     * Stores a weight quantized earlier (by a quantizer with the same settings) on {@code manager}'s device.
     *
     * @throws IllegalArgumentException when it was quantized in another format or block size
     */
    public QuantizedWeight upload(QuantizedTensor weight, NDManager manager) {
        boolean rows = !format.blockwise();
        if (!weight.format().equals(format.name()) || weight.doubleQuantized() != settings.doubleQuant()
                || (!rows && weight.blockSize() != settings.blockSize())) {
            throw new IllegalArgumentException("a weight quantized as " + weight.format() + " (block "
                    + weight.blockSize() + ", double quantization " + weight.doubleQuantized() + ") cannot be stored "
                    + "as " + settings);
        }
        if (format instanceof FourBitFormat) {
            pairTable(manager);
            if (settings.doubleQuant()) {
                dynamicTable(manager);
            }
        }
        return QuantizedWeight.upload(this, weight, manager);
    }

    /** The host-side quantized form of a weight (for checks and measurements). */
    public QuantizedTensor quantizeOnHost(HostTensor weight) {
        return format.quantize(weight, settings.blockSize(), settings.doubleQuant());
    }

    synchronized NDArray pairTable(NDManager manager) {
        return pairTables.computeIfAbsent(manager, m -> {
            CodeTable t = ((FourBitFormat) format).table();
            float[] pairs = new float[512];
            for (int b = 0; b < 256; b++) {
                pairs[2 * b] = t.value(b >>> 4);
                pairs[2 * b + 1] = t.value(b & 0x0F);
            }
            return keep(m.create(pairs, new Shape(256, 2)));
        });
    }

    synchronized NDArray dynamicTable(NDManager manager) {
        return dynamicTables.computeIfAbsent(manager, m -> keep(m.create(CodeTable.dynamic8().values())));
    }

    private static NDArray keep(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    /** Bytes of the code tables held on the device (shared by every weight of the encoder). */
    public synchronized long tableBytes() {
        long n = 0;
        for (NDArray a : pairTables.values()) {
            n += a.getShape().size() * DataType.FLOAT32.getNumOfBytes();
        }
        for (NDArray a : dynamicTables.values()) {
            n += a.getShape().size() * DataType.FLOAT32.getNumOfBytes();
        }
        return n;
    }
}
