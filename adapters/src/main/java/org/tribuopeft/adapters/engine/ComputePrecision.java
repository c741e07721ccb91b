package org.tribuopeft.adapters.engine;

import ai.djl.ndarray.NDArray;

import java.util.Locale;

/**
 * The number format the heavy arithmetic of a training or prediction step runs in. Parameters, gradients and
 * optimizer state stay float32 either way ("master weights"); {@link #BFLOAT16} only changes the format the
 * matrix products and attention are computed in, the way PyTorch's {@code torch.autocast} does. The setting is
 * scoped to the calling thread ({@link #use}), so the encoder's layers read it without every call carrying it.
 */
public enum ComputePrecision {
    /** Everything in float32: the default, and the only format before this setting existed. */
    FLOAT32("float32", false),
    /** Matrix products and attention in bfloat16 with float32 accumulation of parameters and gradients. */
    BFLOAT16("bfloat16", true);

    private static final ThreadLocal<ComputePrecision> CURRENT = ThreadLocal.withInitial(() -> FLOAT32);

    private final String configName;
    private final boolean bfloat16;

    ComputePrecision(String configName, boolean bfloat16) {
        this.configName = configName;
        this.bfloat16 = bfloat16;
    }

    /** The name used in configuration files, provenance and on the command line. */
    public String configName() {
        return configName;
    }

    /**
     * {@code x·Wᵀ + b} in this precision, as one fused operator; the result is float32 either way.
     *
     * @param x [..., in] float32
     * @param weight [out, in] float32
     * @param bias [out] float32, or null for none
     * @return [..., out] float32
     */
    public NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return TorchScriptOps.get().linear(x, weight, bias, bfloat16);
    }

    /**
     * {@code x·Wᵀ + b + scale·(dropout(x)·Aᵀ)·Bᵀ}: a Linear in this precision with a float32 low-rank term added, as
     * one operator ({@link TorchScriptOps#linearLowRank}). Dropout applies to the low-rank input only while
     * {@code training}.
     *
     * @throws IllegalArgumentException if {@code dropoutP} is not in [0, 1)
     *
     * @param x [..., in] float32
     * @param weight [out, in] float32
     * @param bias [out] float32, or null for none
     * @param a [r, in] float32
     * @param b [out, r] float32
     * @return [..., out] float32
     */
    public NDArray linearLowRank(NDArray x, NDArray weight, NDArray bias, NDArray a, NDArray b, double scale,
                                 double dropoutP, boolean training) {
        TrainingDropout.requireRate(dropoutP);
        return TorchScriptOps.get().linearLowRank(x, weight, bias, a, b, scale, training ? dropoutP : 0, bfloat16);
    }

    /**
     * Multi-head scaled dot-product attention in this precision, as one fused operator; the result is float32
     * either way. Dropout applies to the attention probabilities only while {@code training}, drawing from the
     * engine's random generator (so a seeded run repeats exactly).
     *
     * @param q [batch, tokens, heads·headSize] queries
     * @param k [batch, keys, heads·headSize] keys (prefix keys already placed first)
     * @param v [batch, keys, heads·headSize] values
     * @param heads the number of heads
     * @param maskBias [batch, 1, 1, keys] float32 added to the scores: 0 to attend, very negative to skip; null
     *     when nothing is padded
     * @param dropoutP attention-probability dropout rate
     * @param training true while training
     * @return [batch, tokens, heads·headSize] float32 context
     */
    public NDArray attention(NDArray q, NDArray k, NDArray v, int heads, NDArray maskBias, double dropoutP,
                             boolean training) {
        return TorchScriptOps.get().attention(q, k, v, maskBias, heads, training ? dropoutP : 0, bfloat16);
    }

    /** The precision in force on this thread ({@link #FLOAT32} unless a {@link #use} scope is open). */
    public static ComputePrecision current() {
        return CURRENT.get();
    }

    /**
     * Makes {@code precision} current on this thread until the returned scope closes, then restores the previous
     * one (scopes nest).
     */
    public static Scope use(ComputePrecision precision) {
        ComputePrecision previous = CURRENT.get();
        CURRENT.set(precision);
        return () -> CURRENT.set(previous);
    }

    /**
     * Reads a configuration value ({@code float32} or {@code bfloat16}, any case).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static ComputePrecision parse(String value) {
        if (value != null) {
            for (ComputePrecision p : values()) {
                if (p.configName.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("unknown compute precision '" + value + "'; use float32 or bfloat16");
    }

    /** Restores the previous precision when closed. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
