package org.tribuopeft.adapters.peft;

/**
 * The key prefix of tensors in an {@code adapter_model.safetensors}: PEFT prefixes every key with
 * {@code base_model.model.} plus the wrapped model's own path to the encoder.
 */
public enum PeftKeyStyle {
    /** A bare {@code BertModel} (PEFT task FEATURE_EXTRACTION): {@code base_model.model.encoder.layer.0...}. */
    BARE_ENCODER("base_model.model.", "FEATURE_EXTRACTION"),
    /**
     * A {@code BertForSequenceClassification} (PEFT task SEQ_CLS):
     * {@code base_model.model.bert.encoder.layer.0...}, with the head at {@code base_model.model.classifier}.
     */
    SEQUENCE_CLASSIFICATION("base_model.model.bert.", "SEQ_CLS");

    /** The prefix of the head's keys in both styles. */
    public static final String HEAD_PREFIX = "base_model.model.";

    private final String encoderPrefix;
    private final String taskType;

    PeftKeyStyle(String encoderPrefix, String taskType) {
        this.encoderPrefix = encoderPrefix;
        this.taskType = taskType;
    }

    /** The prefix before {@code encoder.layer.N...}. */
    public String encoderPrefix() {
        return encoderPrefix;
    }

    /**
     * The prefix of module names relative to the wrapped model ({@code ""} or {@code "bert."}), as PEFT
     * writes the keys of an AdaLoRA {@code rank_pattern}.
     */
    public String modulePrefix() {
        return encoderPrefix.substring(HEAD_PREFIX.length());
    }

    /** PEFT's {@code task_type}. */
    public String taskType() {
        return taskType;
    }
}
