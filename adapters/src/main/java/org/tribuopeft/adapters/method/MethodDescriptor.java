package org.tribuopeft.adapters.method;

import org.tribuopeft.adapters.peft.PeftForm;

import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Map;
import java.util.Optional;

/**
 * What the rest of the library needs to know about one fine-tuning method, registered once by the
 * method's own package (a line in {@code META-INF/services/org.tribuopeft.adapters.method.MethodDescriptor})
 * and found through {@link MethodRegistry}: the file formats, ONNX export, the CLI and the configuration
 * reference ask the descriptor instead of naming methods.
 */
public interface MethodDescriptor {
    /** How a method's trained result can be exported to ONNX. */
    enum OnnxForm {
        /** The update is {@code x·Aᵀ·Bᵀ} over the unchanged base: the base graph with adapter inputs fits it. */
        ADAPTER_INPUTS,
        /** Only a graph with the update folded into the weights expresses the method. */
        MERGED_ONLY
    }

    /** The lower-case name used in configuration, the CLI ({@code benchmark --methods}) and reports. */
    String name();

    /** One sentence for help texts and the configuration reference: what the method is and when to use it. */
    String summary();

    /** The configuration component class (exactly this class, not subclasses, is this method). */
    Class<? extends AdapterMethod> configClass();

    /** True when {@code method} is this descriptor's method. */
    default boolean describes(AdapterMethod method) {
        return method.getClass() == configClass();
    }

    /** The method's Hugging Face PEFT folder form, or empty when PEFT has no adapter file for it. */
    Optional<PeftForm> peftForm();

    /**
     * How these settings export to ONNX; {@link OnnxForm#ADAPTER_INPUTS} also requires that
     * {@link #baseChange} is empty.
     */
    OnnxForm onnxForm(AdapterMethod method);

    /**
     * The ONNX adapter-input values of trained tensors, {@code <module>.lora_A} = [in, r] and
     * {@code <module>.lora_B} = [r, out] such that the update is {@code x·lora_A·lora_B}; only called when
     * {@link #onnxForm} is {@link OnnxForm#ADAPTER_INPUTS}.
     *
     * @param method the settings
     * @param tensors the trained tensors and the method's state by full name
     * @param rankMasks kept-rank masks by module, for methods whose layers have them
     */
    default Map<String, HostTensor> onnxAdapterInputs(AdapterMethod method, Map<String, HostTensor> tensors,
                                                      Map<String, boolean[]> rankMasks) {
        throw new IllegalArgumentException(name() + ": " + mergedOnlyReason());
    }

    /** Why these settings export to ONNX merged only, and what to do instead; for refusals. */
    default String mergedOnlyReason() {
        return "this method has no ONNX adapter-input form; export it merged";
    }

    /**
     * Why a model trained with these settings cannot share its pretrained base with other adapters, because
     * it rewrites or trains base weights; empty when it leaves the base exactly as loaded. The one rule for
     * every place that puts several adapters on one base, and for ONNX adapter inputs.
     */
    Optional<String> baseChange(AdapterMethod method);

    /**
     * Why an adapter trained with these settings cannot join a mixed-adapter batch (one forward pass whose rows
     * belong to different adapters over one base, each adapter adding {@link AdapterLayer#update} on its own
     * rows); empty when it can. Such adapters are still served, each in a batch of its own. By default a method
     * joins when it leaves the base unchanged ({@link #baseChange}); methods that change the sequence (virtual
     * tokens, attention prefixes) override this.
     */
    default Optional<String> mixedBatchRefusal(AdapterMethod method) {
        return baseChange(method);
    }

    /**
     * Why these settings cannot train on a quantized frozen base (QLoRA), or empty when they can. The quantized
     * Linear weights are codes that never train and are only rewritten by merging, so a method that trains them or
     * rewrites them while it trains must say so here; biases, embeddings and LayerNorms stay float32 and may train.
     */
    default Optional<String> quantizedBaseConflict(AdapterMethod method) {
        return Optional.empty();
    }

    /**
     * The settings {@code benchmark} trains this method with, comparable across methods (same targets,
     * LoRA-like budget).
     *
     * @param plannedSteps the optimizer steps the benchmark will run (for schedules such as AdaLoRA's)
     */
    AdapterMethod benchmarkSettings(int plannedSteps);

    /** The learning rate {@code benchmark} uses for this method (adapters tolerate far larger ones than full). */
    default double benchmarkLearningRate() {
        return 1e-3;
    }
}
