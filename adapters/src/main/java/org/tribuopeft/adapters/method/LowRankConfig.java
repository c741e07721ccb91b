package org.tribuopeft.adapters.method;

import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.Configurable;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.BertLayer;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.LinearLayer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What every low-rank method shares: which modules to adapt, the scaling numerator alpha, dropout on
 * the adapter input, and which biases train. Subclasses add their rank settings and build their own
 * {@link AdapterLayer}. Configurable from OLCUT XML/JSON, validated in {@link #postConfig()}.
 */
public abstract class LowRankConfig implements AdapterMethod, Cloneable {

    @Config(description = "Module names to adapt, matched as PEFT does (equal, or a suffix after a dot): query, "
            + "key, value, attention.output.dense, intermediate.dense, output.dense (which also matches "
            + "attention.output.dense), dense, or the single entry all-linear.")
    protected List<String> targetModules = new ArrayList<>(List.of("query", "value"));

    @Config(description = "A regular expression matched against whole module names such as "
            + "encoder.layer.0.attention.self.query; when set it replaces targetModules.")
    protected String targetRegex = "";

    @Config(description = "Indices of the layers to adapt (0-based); empty adapts every layer.")
    protected List<Integer> layersToTransform = new ArrayList<>();

    @Config(description = "Scaling numerator alpha (PEFT lora_alpha); must be positive.")
    protected double alpha = 8.0;

    @Config(description = "Dropout probability applied to the adapter input while training, in [0, 1).")
    protected double dropout = 0.0;

    @Config(description = "Which biases train: NONE, ALL (every bias in the encoder) or LORA_ONLY (biases of the "
            + "adapted layers).")
    protected BiasMode bias = BiasMode.NONE;

    /** For OLCUT and subclasses; fields keep their defaults. */
    protected LowRankConfig() { }

    /**
     * A copy of this config, of the same class, whose collections are its own: the {@code with*} methods change the
     * copy, so a config a trainer or a saved model holds never changes under it. Subclasses with collection fields
     * override this to copy them too.
     *
     * @param <C> the config's own class
     */
    @SuppressWarnings("unchecked")
    protected <C extends LowRankConfig> C copy() {
        try {
            LowRankConfig c = (LowRankConfig) super.clone();
            c.targetModules = new ArrayList<>(targetModules);
            c.layersToTransform = new ArrayList<>(layersToTransform);
            return (C) c;
        } catch (CloneNotSupportedException e) {
            throw new AssertionError("LowRankConfig is Cloneable", e);
        }
    }

    @Override
    public void postConfig() {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new PropertyException("", "alpha", "alpha must be a positive number, found " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new PropertyException("", "dropout", "dropout must be in [0, 1), found " + dropout);
        }
        if (bias == null) {
            throw new PropertyException("", "bias", "bias must be one of NONE, ALL, LORA_ONLY");
        }
        try {
            targets();
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", targetRegex.isEmpty() ? "targetModules" : "targetRegex", e.getMessage());
        }
        for (Integer l : layersToTransform) {
            if (l == null || l < 0) {
                throw new PropertyException("", "layersToTransform", "layer indices must be >= 0, found " + l);
            }
        }
    }

    /** The module selection these settings describe. */
    public TargetSelection targets() {
        return new TargetSelection(targetModules, targetRegex, layersToTransform);
    }

    /** The module-name list (PEFT target_modules), empty when a regex is used. */
    public List<String> targetModules() {
        return List.copyOf(targetModules);
    }

    /** The module-name regex, or empty. */
    public String targetRegex() {
        return targetRegex;
    }

    /** The adapted layer indices; empty means all. */
    public List<Integer> layersToTransform() {
        return List.copyOf(layersToTransform);
    }

    /** Scaling numerator alpha. */
    public double alpha() {
        return alpha;
    }

    /** Adapter-input dropout probability. */
    public double dropout() {
        return dropout;
    }

    /** Which biases train. */
    public BiasMode bias() {
        return bias;
    }

    /**
     * Builds this method's adapter around one frozen Linear (methods without shared state implement this).
     *
     * @param base the pretrained layer
     * @param moduleName its full module name, for error messages
     * @param rng the source of randomness for initialisation
     */
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " builds its layers from shared state");
    }

    /**
     * Creates the frozen tensors this method shares between its layers (VeRA's random projections) once per
     * installation, before any layer and from the same generator; none by default. They become the adapted
     * encoder's {@link AdaptedEncoder#methodState()}, so saved models restore them exactly.
     *
     * @param encoder the encoder being adapted
     * @param modules the full names of the selected modules
     * @param rng the installation's generator
     */
    protected Map<String, Parameter> createSharedState(BertEncoder encoder, List<String> modules, SplittableRandom rng) {
        return Map.of();
    }

    /**
     * Builds this method's adapter around one frozen Linear, given the shared state; by default ignores it
     * and calls {@link #createLayer(DenseLinear, String, SplittableRandom)}.
     *
     * @param base the pretrained layer
     * @param moduleName its full module name, for error messages
     * @param rng the source of randomness for initialisation
     * @param sharedState what {@link #createSharedState} returned
     */
    protected AdapterLayer createLayer(DenseLinear base, String moduleName, SplittableRandom rng,
                                       Map<String, Parameter> sharedState) {
        return createLayer(base, moduleName, rng);
    }

    /**
     * Checks method-specific settings against the modules about to be adapted; {@link #apply} calls it
     * before the encoder is touched. Nothing to check by default.
     *
     * @param modules the full names of the selected modules
     * @throws PropertyException naming the field at fault
     */
    public void checkSelection(List<String> modules) { }

    /** The method's training hook, given the installed layers; none by default. */
    protected TrainingHook createHook(Map<String, AdapterLayer> layers) {
        return TrainingHook.NONE;
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng) {
        List<String> modules;
        try {
            modules = targets().select(encoder.config());
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", targetRegex.isEmpty() ? "targetModules" : "targetRegex", e.getMessage());
        }
        checkSelection(modules);
        Map<String, Parameter> shared = createSharedState(encoder, modules, rng);
        Map<String, AdapterLayer> layers = new LinkedHashMap<>();
        Map<String, Parameter> trainable = new LinkedHashMap<>();
        for (String module : modules) {
            TargetSelection.Located loc = TargetSelection.locate(module);
            BertLayer bertLayer = encoder.layers().get(loc.layer());
            LinearLayer current = bertLayer.linear(loc.target());
            if (!(current instanceof DenseLinear base)) {
                throw new IllegalStateException(module + " already holds an adapter (" + current.getClass().getSimpleName()
                        + "); install one method per encoder");
            }
            AdapterLayer layer = createLayer(base, module, rng, shared);
            bertLayer.setLinear(loc.target(), layer);
            layers.put(module, layer);
            layer.adapterParameters().forEach((name, p) -> {
                p.freeze(false);
                trainable.put(module + "." + name, p);
            });
        }
        unfreezeBiases(encoder, layers, trainable);
        return new AdaptedEncoder(encoder, this, layers, trainable, createHook(layers), shared);
    }

    private void unfreezeBiases(BertEncoder encoder, Map<String, AdapterLayer> layers, Map<String, Parameter> trainable) {
        switch (bias) {
            case NONE -> { }
            case LORA_ONLY -> layers.forEach((module, layer) -> {
                Parameter b = layer.base().bias();
                if (b != null) {
                    b.freeze(false);
                    trainable.put(module + ".bias", b);
                }
            });
            case ALL -> encoder.baseParameters().forEach((name, p) -> {
                // PEFT's rule: every parameter whose name contains "bias", LayerNorm biases included
                if (name.contains("bias")) {
                    p.freeze(false);
                    trainable.put(name, p);
                }
            });
        }
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "method");
    }
}
