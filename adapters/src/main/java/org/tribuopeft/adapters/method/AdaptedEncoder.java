package org.tribuopeft.adapters.method;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An encoder with a method installed: the adapter layers by module name, every trainable parameter
 * under its full PEFT-style name ({@code encoder.layer.0.attention.self.query.lora_A.weight}), and the
 * method's training hook. Merging and unmerging act on every adapter layer at once.
 */
public final class AdaptedEncoder {
    private final BertEncoder encoder;
    private final AdapterMethod method;
    private final Map<String, AdapterLayer> layers;
    private final Map<String, Parameter> trainable;
    private final TrainingHook hook;
    private final Map<String, Parameter> state;

    /**
     * Records the result of installing a method.
     *
     * @param encoder the modified encoder
     * @param method the method installed
     * @param layers adapter layers by full module name (empty for full fine-tuning)
     * @param trainable every parameter that trains, by full name
     * @param hook the method's training hook
     */
    public AdaptedEncoder(BertEncoder encoder, AdapterMethod method, Map<String, AdapterLayer> layers,
                          Map<String, Parameter> trainable, TrainingHook hook) {
        this(encoder, method, layers, trainable, hook, Map.of());
    }

    /**
     * Records the result of installing a method that also keeps frozen state of its own.
     *
     * @param encoder the modified encoder
     * @param method the method installed
     * @param layers adapter layers by full module name (empty for full fine-tuning)
     * @param trainable every parameter that trains, by full name
     * @param hook the method's training hook
     * @param state frozen tensors the method created or rewrites and a saved model must restore exactly (VeRA's
     *     shared random projections, the base weights ReLoRA merges into at every reset), by name; they never
     *     train
     */
    public AdaptedEncoder(BertEncoder encoder, AdapterMethod method, Map<String, AdapterLayer> layers,
                          Map<String, Parameter> trainable, TrainingHook hook, Map<String, Parameter> state) {
        for (String name : state.keySet()) {
            if (trainable.containsKey(name)) {
                throw new IllegalArgumentException("'" + name + "' is both trainable and frozen method state");
            }
        }
        this.state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
        this.encoder = encoder;
        this.method = method;
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        this.trainable = Collections.unmodifiableMap(new LinkedHashMap<>(trainable));
        this.hook = hook;
    }

    /** The encoder, with adapters in its slots. */
    public BertEncoder encoder() {
        return encoder;
    }

    /** The installed method. */
    public AdapterMethod method() {
        return method;
    }

    /** Adapter layers by full module name. */
    public Map<String, AdapterLayer> layers() {
        return layers;
    }

    /** Every trainable encoder parameter by full name (the task head is not included). */
    public Map<String, Parameter> trainableParameters() {
        return trainable;
    }

    /**
     * The frozen tensors the method created itself or rewrites while training (VeRA's projections, ReLoRA's
     * merged base weights), by name; empty for most methods. Snapshots, checkpoints and saved models carry them.
     */
    public Map<String, Parameter> methodState() {
        return state;
    }

    /** The method's training hook. */
    public TrainingHook hook() {
        return hook;
    }

    /** Number of trainable values in the encoder (adapter and unfrozen base parameters). */
    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : trainable.values()) {
            n += p.getArray().getShape().size();
        }
        return n;
    }

    /** The effective rank of each adapter layer, by module name. */
    public Map<String, Integer> ranks() {
        Map<String, Integer> out = new LinkedHashMap<>();
        layers.forEach((k, v) -> out.put(k, v.effectiveRank()));
        return out;
    }

    /** Folds every adapter into its frozen weight. */
    public void merge() {
        for (AdapterLayer l : layers.values()) {
            if (!l.isMerged()) {
                l.merge();
            }
        }
    }

    /** Takes every adapter out of its frozen weight again. */
    public void unmerge() {
        for (AdapterLayer l : layers.values()) {
            if (l.isMerged()) {
                l.unmerge();
            }
        }
    }

    /** True when every adapter layer is merged (and there is at least one). */
    public boolean isMerged() {
        return !layers.isEmpty() && layers.values().stream().allMatch(AdapterLayer::isMerged);
    }

    /** Copies every trainable parameter off the engine, by full name. */
    public Map<String, HostTensor> trainableTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        trainable.forEach((k, p) -> out.put(k, HostTensor.of(p.getArray())));
        return out;
    }

    /**
     * Overwrites trainable parameters with stored values (to restore a saved or best model). Every
     * trainable parameter must be given, with its exact shape.
     *
     * @throws IllegalArgumentException naming the first missing, unknown or mis-shaped tensor
     */
    public void loadTrainableTensors(Map<String, HostTensor> values) {
        for (String name : values.keySet()) {
            if (!trainable.containsKey(name)) {
                throw new IllegalArgumentException("'" + name + "' is not a trainable parameter of this "
                        + method.descriptor().name() + " model");
            }
        }
        for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
            HostTensor t = values.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("no value given for trainable parameter '" + e.getKey() + "'");
            }
            NDArray target = e.getValue().getArray();
            if (!Arrays.equals(target.getShape().getShape(), t.shape())) {
                throw new IllegalArgumentException("'" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + " but the model needs " + target.getShape());
            }
            HostTensor.copyInto(t, target);
        }
    }
}
