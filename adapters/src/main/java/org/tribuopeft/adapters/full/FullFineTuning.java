package org.tribuopeft.adapters.full;

import ai.djl.nn.Parameter;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.method.AdaptedEncoder;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.TrainingHook;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Full fine-tuning: every backbone weight trains, through the same trainer path as the adapters. The
 * baseline the low-rank methods are measured against; there is nothing to merge.
 */
public class FullFineTuning implements AdapterMethod {

    @Config(description = "Whether the embedding tables (word, position, token type) train too.")
    private boolean trainEmbeddings = true;

    /** Every weight trains. */
    public FullFineTuning() { }

    /**
     * Full fine-tuning, optionally with frozen embeddings.
     *
     * @param trainEmbeddings false keeps the embedding tables frozen
     */
    public FullFineTuning(boolean trainEmbeddings) {
        this.trainEmbeddings = trainEmbeddings;
    }


    /** {@code 5e-5}: every pretrained weight moves, so the usual BERT fine-tuning rate, not an adapter's. */
    @Override
    public double defaultLearningRate() {
        return 5e-5;
    }

    /** Whether the embedding tables train. */
    public boolean trainEmbeddings() {
        return trainEmbeddings;
    }

    @Override
    public AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng) {
        Map<String, Parameter> trainable = new LinkedHashMap<>();
        encoder.baseParameters().forEach((name, p) -> {
            if (trainEmbeddings || !name.startsWith("embeddings.") || name.contains("LayerNorm")) {
                p.freeze(false);
                trainable.put(name, p);
            }
        });
        return new AdaptedEncoder(encoder, this, Map.of(), trainable, TrainingHook.NONE);
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "method");
    }

    @Override
    public String toString() {
        return "full(trainEmbeddings=" + trainEmbeddings + ")";
    }
}
