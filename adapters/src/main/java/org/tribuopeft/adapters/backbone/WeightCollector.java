package org.tribuopeft.adapters.backbone;

import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.quant.BaseQuantizer;
import org.tribuopeft.adapters.quant.QuantizedTensor;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Gathers a backbone's weights as a loader reads them, one at a time. With a quantization, each Linear weight is
 * quantized the moment it arrives and only its codes and scales are kept, so the float32 Linear weights never all
 * exist at once (QLoRA's "the float32 base is never materialised"); other weights stay float32.
 */
final class WeightCollector {
    private final BaseQuantization quantization;
    private final BaseQuantizer quantizer;
    private final String model;
    private final Map<String, HostTensor> floats = new LinkedHashMap<>();
    private final Map<String, QuantizedTensor> quantized = new LinkedHashMap<>();

    /**
     * @param quantization how to hold the Linear weights, or null for float32
     * @param model the model's display name, for the block-size error
     */
    WeightCollector(BaseQuantization quantization, String model) {
        this.quantization = quantization;
        this.quantizer = quantization == null ? null : quantization.quantizer();
        this.model = model;
    }

    /**
     * Keeps one weight under its canonical name (a Linear weight laid out [out, in]); a Linear weight is quantized
     * now when a quantization is set, and the float32 values are not kept.
     *
     * @throws IllegalArgumentException when the block size does not divide a Linear weight's input width
     */
    void put(String name, HostTensor tensor) {
        if (quantizer != null && BertWeights.isLinearWeight(name) && tensor.shape().length == 2) {
            quantization.checkFits(model, (int) tensor.dim(1));
            floats.remove(name);
            quantized.put(name, quantizer.quantizeOnHost(tensor));
        } else {
            quantized.remove(name);
            floats.put(name, tensor);
        }
    }

    /** A float32 weight kept so far, or null. */
    HostTensor floatTensor(String name) {
        return floats.get(name);
    }

    /** The names of every weight kept so far, float32 or quantized. */
    Set<String> names() {
        Set<String> out = new LinkedHashSet<>(floats.keySet());
        out.addAll(quantized.keySet());
        return out;
    }

    /**
     * The weights, checked against {@code config}.
     *
     * @throws ModelFileException when a weight is missing or of the wrong shape
     */
    BertWeights build(BertConfig config, String source) throws ModelFileException {
        return new BertWeights(config, floats, quantized, quantized.isEmpty() ? null : quantization, source);
    }
}
