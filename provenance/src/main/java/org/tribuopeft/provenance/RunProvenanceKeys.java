package org.tribuopeft.provenance;

import java.util.List;

/**
 * The keys under which tribuo-peft stores its records in a model's run provenance
 * ({@code model.getProvenance().getInstanceProvenance()}). One place, so the trainer that writes them, the
 * replayer that skips them and a user who reads them cannot drift apart.
 */
public final class RunProvenanceKeys {
    /** The base model record, a {@link BaseModelProvenance}. */
    public static final String BASE_MODEL = "tribuo-peft.base-model";
    /** The tokenizer record, a {@link TokenizerProvenance}. */
    public static final String TOKENIZER = "tribuo-peft.tokenizer";
    /** The training-run record, a {@link TrainingRunProvenance}. */
    public static final String TRAINING_RUN = "tribuo-peft.training-run";
    /** Every key above: a user's run provenance may not use them. */
    public static final List<String> RESERVED = List.of(BASE_MODEL, TOKENIZER, TRAINING_RUN);

    private RunProvenanceKeys() { }
}
