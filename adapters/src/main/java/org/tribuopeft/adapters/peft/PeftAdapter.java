package org.tribuopeft.adapters.peft;

import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.List;
import java.util.Map;

/**
 * An adapter as it moves to and from a PEFT folder: the method settings, the trained tensors under
 * this library's names ({@code encoder.layer.0.attention.self.query.lora_A.weight},
 * {@code classifier.weight}), AdaLoRA's kept-triplet masks, and what the folder's config held that
 * this library does not use (kept, not dropped, so a round trip loses nothing).
 *
 * @param method the method settings
 * @param tensors trained tensors by full name; AdaLoRA factors at the full initial rank
 * @param rankMasks AdaLoRA kept-triplet masks by module (empty for other methods)
 * @param baseModelName the config's {@code base_model_name_or_path}
 * @param unknownConfig adapter_config.json entries this library does not know, as JSON text values
 * @param keyStyle the key prefix the folder used
 * @param adaLoraTotalStep the optimizer steps AdaLoRA's schedule spanned in training (PEFT's required
 *     {@code total_step}), or 0 when unknown or not AdaLoRA
 */
public record PeftAdapter(AdapterMethod method, Map<String, HostTensor> tensors, Map<String, boolean[]> rankMasks,
                          String baseModelName, Map<String, String> unknownConfig, PeftKeyStyle keyStyle,
                          int adaLoraTotalStep) {

    /** An adapter whose AdaLoRA step count (if any) is unknown or in its method settings. */
    public PeftAdapter(AdapterMethod method, Map<String, HostTensor> tensors, Map<String, boolean[]> rankMasks,
                       String baseModelName, Map<String, String> unknownConfig, PeftKeyStyle keyStyle) {
        this(method, tensors, rankMasks, baseModelName, unknownConfig, keyStyle, 0);
    }

    /** Copies the maps. */
    public PeftAdapter {
        tensors = Map.copyOf(tensors);
        rankMasks = Map.copyOf(rankMasks);
        unknownConfig = Map.copyOf(unknownConfig);
    }

    /** The names of unknown config keys, for reporting. */
    public List<String> unknownKeys() {
        return unknownConfig.keySet().stream().sorted().toList();
    }
}
