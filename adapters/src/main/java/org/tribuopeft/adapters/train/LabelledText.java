package org.tribuopeft.adapters.train;

import java.util.Objects;

/**
 * One training or evaluation example: a text and its target row (one-hot for a single label, 0/1
 * per label for multi-label, values for regression).
 *
 * @param text the input text
 * @param target the target row, as wide as the head
 */
public record LabelledText(String text, float[] target) {
    /** Rejects null parts. */
    public LabelledText {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(target, "target");
    }

    /** A single-label example with class {@code index} of {@code classes}. */
    public static LabelledText ofClass(String text, int index, int classes) {
        float[] t = new float[classes];
        t[index] = 1f;
        return new LabelledText(text, t);
    }
}
