package org.tribuopeft.adapters.method;

import com.oracle.labs.mlrg.olcut.config.Configurable;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenancable;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.TextTokenizer;

import java.util.SplittableRandom;

/**
 * A way of making a pretrained encoder trainable: LoRA, DoRA, AdaLoRA or full fine-tuning. It is
 * the one component that changes when a user switches method; the training loop, the model and the
 * file formats only see this interface and the {@link AdaptedEncoder} it returns. Every method is an
 * OLCUT configurable with provenance, so it can be named as a component in a configuration file.
 */
public interface AdapterMethod extends Configurable, Provenancable<ConfiguredObjectProvenance> {
    /** This method's registration: its name, file formats and export forms. */
    default MethodDescriptor descriptor() {
        return MethodRegistry.of(this);
    }

    /**
     * The peak learning rate a trainer uses for this method when the user sets none: {@code 2e-3}, which suits
     * low-rank adapters (a fresh head and small updates); full fine-tuning overrides it with a far smaller one.
     */
    default double defaultLearningRate() {
        return 2e-3;
    }

    /**
     * Installs the method on an encoder whose parameters are all frozen: wraps the target Linears,
     * creates and initialises the new parameters from {@code rng}, and unfreezes what trains.
     *
     * @param encoder the encoder to modify in place
     * @param rng the only source of randomness for initialisation
     * @return the adapted encoder, listing what trains
     */
    AdaptedEncoder apply(BertEncoder encoder, SplittableRandom rng);

    /**
     * Installs the method with the backbone's tokenizer at hand, for methods initialised from text; the
     * others ignore the tokenizer.
     *
     * @param encoder the encoder to modify in place
     * @param tokenizer the backbone's tokenizer
     * @param rng the only source of randomness for initialisation
     * @return the adapted encoder, listing what trains
     */
    default AdaptedEncoder apply(BertEncoder encoder, TextTokenizer tokenizer, SplittableRandom rng) {
        return apply(encoder, rng);
    }
}
