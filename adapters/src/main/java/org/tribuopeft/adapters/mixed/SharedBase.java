package org.tribuopeft.adapters.mixed;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.io.IOException;
import java.util.SplittableRandom;

/**
 * One frozen pretrained encoder held once in memory, on which any number of adapter models are built and
 * closed again (loaded and evicted by a server), and over which a {@link MixedBatchPredictor} runs batches that
 * mix them. Owns the base's native memory: close it after every model built on it.
 */
public final class SharedBase implements AutoCloseable {
    private final Backbone backbone;
    private final NDManager manager;
    private final BertEncoder encoder;
    private final BaseQuantization quantization;

    private SharedBase(Backbone backbone, NDManager manager, BertEncoder encoder, BaseQuantization quantization) {
        this.backbone = backbone;
        this.manager = manager;
        this.encoder = encoder;
        this.quantization = quantization;
    }

    /** Puts the backbone's weights on the default device (a GPU when DJL sees one, else the CPU). */
    public static SharedBase of(Backbone backbone) {
        return of(backbone, TorchRuntime.defaultDevice());
    }

    /** Puts the backbone's weights on {@code device}. */
    public static SharedBase of(Backbone backbone, Device device) {
        return of(backbone, null, device);
    }

    /**
     * Puts the backbone's weights on the default device, its Linear weights stored as {@code quantization} says
     * (null: float32), so that adapters trained on such a base (QLoRA) predict as they were trained.
     */
    public static SharedBase of(Backbone backbone, BaseQuantization quantization) {
        return of(backbone, quantization, TorchRuntime.defaultDevice());
    }

    /** As {@link #of(Backbone, BaseQuantization)} on {@code device}. */
    public static SharedBase of(Backbone backbone, BaseQuantization quantization, Device device) {
        NDManager manager = TorchRuntime.engine().newBaseManager(device);
        try {
            return new SharedBase(backbone, manager, backbone.createEncoder(manager, quantization), quantization);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The pretrained backbone. */
    public Backbone backbone() {
        return backbone;
    }

    /** How the base's Linear weights are stored, or null for float32. */
    public BaseQuantization quantization() {
        return quantization;
    }

    /** The frozen encoder without adapters. */
    public BertEncoder encoder() {
        return encoder;
    }

    /** The manager that owns the base arrays. */
    public NDManager manager() {
        return manager;
    }

    /** Bytes of the base's parameters (held once, whatever the number of adapters). */
    public long baseBytes() {
        long n = 0;
        for (Parameter p : encoder.baseParameters().values()) {
            n += p.getArray().getShape().size() * p.getArray().getDataType().getNumOfBytes();
        }
        return n;
    }

    /**
     * Builds an adapter model on this base; restore its trained values with {@link TextModel#restore}. Closing it
     * frees its own arrays only.
     *
     * @param method the adapter's settings; must leave the base unchanged
     * @param task what the head predicts
     * @param outputs the head's width
     * @param maxLength tokens per text, special tokens included
     * @param rng randomness for the initial values (overwritten by a restore)
     * @throws IllegalArgumentException when the method changes the base
     */
    public TextModel adapterModel(AdapterMethod method, TaskKind task, int outputs, int maxLength, SplittableRandom rng)
            throws IOException {
        return TextModel.onSharedBase(backbone, manager, encoder, method, task, outputs, maxLength, rng);
    }

    /** Frees the base. */
    @Override
    public void close() {
        manager.close();
    }
}
