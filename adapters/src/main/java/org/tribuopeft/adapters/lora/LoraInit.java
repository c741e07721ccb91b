package org.tribuopeft.adapters.lora;

/** How LoRA's A and B start, with PEFT's {@code init_lora_weights} names. */
public enum LoraInit {
    /** PEFT's default: A ~ kaiming-uniform(a=√5), i.e. U(±1/√in); B = 0, so training starts at the base model. */
    KAIMING("true"),
    /** A ~ N(0, (1/r)²), B = 0 (PEFT's "gaussian"). */
    GAUSSIAN("gaussian"),
    /**
     * PiSSA: A and B from the top-r singular triplets of W, and W replaced by the residual
     * W − scaling·B·A, so the adapted layer starts equal to the base layer.
     */
    PISSA("pissa");

    private final String peftValue;

    LoraInit(String peftValue) {
        this.peftValue = peftValue;
    }

    /** The value PEFT writes as {@code init_lora_weights} ({@code true} is written as a JSON boolean). */
    public String peftValue() {
        return peftValue;
    }
}
