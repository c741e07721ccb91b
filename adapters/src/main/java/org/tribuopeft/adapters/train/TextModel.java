package org.tribuopeft.adapters.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterLayer;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A text model ready to train or predict: a pretrained encoder with a method installed, pooling, and a
 * task head, all on one DJL device, with the backbone's tokenizer. Owns its native memory; close it.
 */
public final class TextModel implements AutoCloseable {
    private final NDManager manager;
    private final Backbone backbone;
    private final AdaptedEncoder adapted;
    private final TaskHead head;
    private final TaskKind task;
    private final TextTokenizer tokenizer;
    private final Pooling pooling;
    private final boolean ownsManager;

    private TextModel(NDManager manager, Backbone backbone, AdaptedEncoder adapted, TaskHead head, TaskKind task,
                      TextTokenizer tokenizer, Pooling pooling, boolean ownsManager) {
        this.ownsManager = ownsManager;
        this.manager = manager;
        this.backbone = backbone;
        this.adapted = adapted;
        this.head = head;
        this.task = task;
        this.tokenizer = tokenizer;
        this.pooling = pooling;
    }

    /**
     * Builds a model on the default device (a GPU when DJL sees one, else the CPU).
     *
     * @param backbone the pretrained encoder
     * @param method the fine-tuning method to install
     * @param task what the head predicts
     * @param outputs the head's width (classes, labels or regression dimensions)
     * @param maxLength tokens per text, special tokens included; longer texts are truncated
     * @param rng the source of randomness for the adapter and head initialisation
     */
    public static TextModel create(Backbone backbone, AdapterMethod method, TaskKind task, int outputs, int maxLength,
                                   SplittableRandom rng) throws IOException {
        return create(backbone, method, task, outputs, maxLength, rng, TorchRuntime.defaultDevice());
    }

    /** As {@link #create(Backbone, AdapterMethod, TaskKind, int, int, SplittableRandom)} on a chosen device. */
    public static TextModel create(Backbone backbone, AdapterMethod method, TaskKind task, int outputs, int maxLength,
                                   SplittableRandom rng, Device device) throws IOException {
        return create(backbone, null, method, task, outputs, maxLength, rng, device);
    }

    /**
     * As {@link #create(Backbone, AdapterMethod, TaskKind, int, int, SplittableRandom)} over a base whose Linear
     * weights are stored as {@code quantization} says (null: float32), on the default device.
     *
     * @throws IllegalArgumentException when the method cannot train on a quantized base, or the block size does not
     *     fit the backbone
     */
    public static TextModel create(Backbone backbone, BaseQuantization quantization, AdapterMethod method,
                                   TaskKind task, int outputs, int maxLength, SplittableRandom rng) throws IOException {
        return create(backbone, quantization, method, task, outputs, maxLength, rng, TorchRuntime.defaultDevice());
    }

    /** As {@link #create(Backbone, BaseQuantization, AdapterMethod, TaskKind, int, int, SplittableRandom)} on a device. */
    public static TextModel create(Backbone backbone, BaseQuantization quantization, AdapterMethod method,
                                   TaskKind task, int outputs, int maxLength, SplittableRandom rng, Device device)
            throws IOException {
        if (quantization != null) {
            MethodRegistry.of(method).quantizedBaseConflict(method).ifPresent(why -> {
                throw new IllegalArgumentException(method + " cannot train on a base quantized as " + quantization
                        + ": " + why);
            });
        }
        if (outputs <= 0) {
            throw new IllegalArgumentException("the head needs at least one output, got " + outputs);
        }
        NDManager manager = TorchRuntime.engine().newBaseManager(device);
        TextTokenizer tokenizer = null;
        try {
            tokenizer = backbone.tokenizer(maxLength);
            BertEncoder encoder = backbone.createEncoder(manager, quantization);
            SplittableRandom methodRng = rng.split();
            SplittableRandom headRng = rng.split();
            AdaptedEncoder adapted = method.apply(encoder, tokenizer, methodRng);
            requireRoom(encoder, maxLength);
            TaskHead head = TaskHead.initialise(manager, backbone.config().hiddenSize(), outputs,
                    backbone.config().hiddenDropout(), headRng);
            head.freezeParameters(false);
            return new TextModel(manager, backbone, adapted, head, task, tokenizer, backbone.pooling(), true);
        } catch (IOException | RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            manager.close();
            throw e;
        }
    }

    /**
     * A model over pretrained weights that someone else owns (shared, not copied), with its own method, head and
     * tokenizer: the building block of every many-adapters-on-one-base holder. Closing it frees its own adapter
     * and head arrays and its tokenizer, never the base.
     *
     * @param backbone the pretrained backbone the base was built from
     * @param manager the manager that owns the base arrays (the new adapter and head arrays are created on it)
     * @param base an encoder on the pretrained weights (any adapters installed on it are ignored and untouched)
     * @param method the method to install; must leave the base unchanged
     * @param task what the head predicts
     * @param outputs the head's width
     * @param maxLength tokens per text, special tokens included
     * @param rng the source of randomness for the adapter and head initialisation
     * @throws IllegalArgumentException when the method changes the base
     */
    public static TextModel onSharedBase(Backbone backbone, NDManager manager, BertEncoder base, AdapterMethod method,
                                         TaskKind task, int outputs, int maxLength, SplittableRandom rng)
            throws IOException {
        baseChange(method).ifPresent(why -> {
            throw new IllegalArgumentException(method + " " + why + ", so it cannot share the base with other adapters");
        });
        if (outputs <= 0) {
            throw new IllegalArgumentException("the head needs at least one output, got " + outputs);
        }
        TextTokenizer tok = backbone.tokenizer(maxLength);
        try {
            AdaptedEncoder other = method.apply(base.shareBase(), tok, rng.split());
            requireRoom(other.encoder(), tok.maxLength());
            TaskHead newHead = TaskHead.initialise(manager, backbone.config().hiddenSize(), outputs,
                    backbone.config().hiddenDropout(), rng.split());
            newHead.freezeParameters(false);
            return new TextModel(manager, backbone, other, newHead, task, tok, backbone.pooling(), false);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    /**
     * Bytes of the arrays this model owns beyond a shared base: its adapter parameters, its method's own state
     * and its head (what closing a model built on a shared base frees).
     */
    public long adapterBytes() {
        long n = 0;
        for (Parameter p : ownArrays()) {
            n += p.getArray().getShape().size() * p.getArray().getDataType().getNumOfBytes();
        }
        return n;
    }

    private List<Parameter> ownArrays() {
        List<Parameter> out = new ArrayList<>(trainableParameters().values());
        out.addAll(adapted.methodState().values());
        return out;
    }

    private static void requireRoom(BertEncoder encoder, int maxLength) {
        int extra = encoder.extraPositions();
        int positions = encoder.config().maxPositions();
        if (extra > 0 && maxLength + extra > positions) {
            throw new IllegalArgumentException("maxLength " + maxLength + " plus the method's " + extra + " virtual "
                    + "positions is more than the model's " + positions + " positions; lower maxLength to at most "
                    + (positions - extra) + " or use fewer virtual tokens");
        }
    }

    /**
     * Why a model trained with this method cannot share its pretrained base with other adapters, because
     * it rewrites or trains base weights; empty when it leaves the base exactly as loaded. Asks the method's
     * registered descriptor: the one rule for every place that puts several adapters on one base.
     */
    public static java.util.Optional<String> baseChange(AdapterMethod method) {
        return MethodRegistry.of(method).baseChange(method);
    }

    /** The pretrained backbone this model was built on. */
    public Backbone backbone() {
        return backbone;
    }

    /** The encoder with its method installed. */
    public AdaptedEncoder adapted() {
        return adapted;
    }

    /** The task head. */
    public TaskHead head() {
        return head;
    }

    /** The task. */
    public TaskKind task() {
        return task;
    }

    /** The tokenizer (truncating at the model's maximum length). */
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** The manager that owns every parameter. */
    public NDManager manager() {
        return manager;
    }

    /** Everything that trains: the method's parameters and the head's, by full name. */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>(adapted.trainableParameters());
        out.put(TaskHead.MODULE_NAME + ".weight", head.weight());
        out.put(TaskHead.MODULE_NAME + ".bias", head.bias());
        return Collections.unmodifiableMap(out);
    }

    /** Number of trainable values, head included (PEFT's "trainable params"). */
    public long trainableParameterCount() {
        long n = 0;
        for (Parameter p : trainableParameters().values()) {
            n += p.getArray().getShape().size();
        }
        return n;
    }

    /** Number of values in the whole model (encoder, adapters and head). */
    public long totalParameterCount() {
        long n = 0;
        for (Parameter p : adapted.encoder().namedParameters().values()) {
            n += p.getArray().getShape().size();
        }
        // quantized Linear weights are stored as codes, not parameters, but are weights of the model all the same
        for (var d : adapted.encoder().quantizedLinears().values()) {
            n += (long) d.inFeatures() * d.outFeatures();
        }
        return n + head.weight().getArray().getShape().size() + head.bias().getArray().getShape().size();
    }

    /**
     * Logits for a tokenized batch already on this model's device.
     *
     * @param inputs ids, attention mask and token types
     * @param training true to enable dropout
     */
    public NDArray logits(ParameterStore ps, NDList inputs, boolean training) {
        NDArray hidden = adapted.encoder().encode(ps, inputs.get(0), inputs.get(1), inputs.get(2), training);
        return head.apply(ps, pooling.pool(hidden, inputs.get(1)), training);
    }

    /** Pooled sentence vectors [texts][hidden] from the (adapted) encoder, without the head. */
    public float[][] embed(List<String> texts, int batchSize) {
        return runBatches(texts, batchSize, (ps, in) -> {
            NDArray hidden = adapted.encoder().encode(ps, in.get(0), in.get(1), in.get(2), false);
            return pooling.pool(hidden, in.get(1));
        });
    }

    /** The head's activated outputs [texts][outputs]: class probabilities, label probabilities or values. */
    public float[][] predict(List<String> texts, int batchSize) {
        return runBatches(texts, batchSize, (ps, in) -> task.activate(logits(ps, in, false)));
    }

    /** Raw logits [texts][outputs], without activation. */
    public float[][] predictLogits(List<String> texts, int batchSize) {
        return runBatches(texts, batchSize, (ps, in) -> logits(ps, in, false));
    }

    private interface BatchFunction {
        NDArray apply(ParameterStore ps, NDList inputs);
    }

    private float[][] runBatches(List<String> texts, int batchSize, BatchFunction fn) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        List<float[]> rows = new ArrayList<>(texts.size());
        for (int start = 0; start < texts.size(); start += batchSize) {
            List<String> chunk = texts.subList(start, Math.min(texts.size(), start + batchSize));
            try (NDScope scope = new NDScope()) {
                TokenBatch batch = tokenizer.encode(chunk);
                NDArray out = fn.apply(new ParameterStore(manager, false), batch.toNDList(manager));
                long width = out.getShape().get(1);
                float[] flat = out.toFloatArray();
                for (int i = 0; i < chunk.size(); i++) {
                    float[] row = new float[(int) width];
                    System.arraycopy(flat, (int) (i * width), row, 0, (int) width);
                    rows.add(row);
                }
            }
        }
        return rows.toArray(new float[0][]);
    }

    /**
     * Copies every trainable value (head included), the method's own frozen state (such as VeRA's shared
     * projections) and the layers' kept-rank masks off the engine: everything a saved model must restore.
     */
    public Snapshot snapshot() {
        Map<String, HostTensor> values = new LinkedHashMap<>();
        trainableParameters().forEach((k, p) -> values.put(k, HostTensor.of(p.getArray())));
        adapted.methodState().forEach((k, p) -> values.put(k, HostTensor.of(p.getArray())));
        return new Snapshot(values, rankMasks());
    }

    /**
     * Restores a {@link #snapshot()}. The method's frozen state is restored when the snapshot holds it; a
     * snapshot written before a method kept state (none did) lacks it and keeps the values just built.
     */
    public void restore(Snapshot snapshot) {
        Map<String, Parameter> trainable = trainableParameters();
        for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
            HostTensor v = snapshot.values().get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("snapshot lacks '" + e.getKey() + "'");
            }
            HostTensor.copyInto(v, e.getValue().getArray());
        }
        for (Map.Entry<String, Parameter> e : adapted.methodState().entrySet()) {
            HostTensor v = snapshot.values().get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("snapshot lacks the method state '" + e.getKey() + "' that "
                        + adapted.method().descriptor().name() + " needs to reproduce the trained model");
            }
            HostTensor.copyInto(v, e.getValue().getArray());
        }
        snapshot.rankMasks().forEach((module, mask) -> {
            AdapterLayer l = adapted.layers().get(module);
            if (l == null) {
                throw new IllegalArgumentException("rank mask given for " + module + ", which this model does not adapt");
            }
            l.restoreRankMask(mask);
        });
    }

    /** The kept-rank mask of each layer that has one (AdaLoRA's kept triplets), by module. */
    public Map<String, boolean[]> rankMasks() {
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        adapted.layers().forEach((k, l) -> l.rankMask().ifPresent(m -> masks.put(k, m)));
        return masks;
    }

    /**
     * Trainable values, the method's frozen state and kept-rank masks at one moment, in Java memory.
     *
     * @param values every trainable tensor and every method-state tensor by full name
     * @param rankMasks kept-rank masks by module
     */
    public record Snapshot(Map<String, HostTensor> values, Map<String, boolean[]> rankMasks) {}

    @Override
    public void close() {
        tokenizer.close();
        if (ownsManager) {
            manager.close();
        } else {
            // the arrays live on the base's manager: free this model's own ones now, or a server that loads and
            // evicts adapters would hold every adapter it ever loaded until the base closes
            for (Parameter p : ownArrays()) {
                if (p.isInitialized() && !p.getArray().isReleased()) {
                    p.getArray().close();
                }
            }
        }
    }
}
