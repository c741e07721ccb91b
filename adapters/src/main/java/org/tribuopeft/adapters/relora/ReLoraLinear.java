package org.tribuopeft.adapters.relora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.lora.LoraLinear;

import java.util.SplittableRandom;

/**
 * A LoRA layer that can restart: {@link #restart} folds the current update {@code scaling·B·A} into the
 * frozen weight for good, then draws a fresh A (kaiming-uniform, as LoRA starts) and zeroes B, so the
 * layer's output is unchanged while the next factors learn a new low-rank direction.
 */
public final class ReLoraLinear extends LoraLinear {
    private static final NDIndex ALL = new NDIndex("...");

    /**
     * Wraps a frozen layer.
     *
     * @param base the pretrained Linear (rewritten at every restart)
     * @param a initial A, [r, in]
     * @param b initial B, [out, r]
     * @param scaling alpha/r
     * @param dropout dropout probability on the adapter input while training
     */
    public ReLoraLinear(DenseLinear base, NDArray a, NDArray b, double scaling, double dropout) {
        super(base, a, b, scaling, dropout);
    }

    /**
     * Merges the update into the frozen weight, then re-initialises A from {@code rng} with LoRA's bound
     * 1/√in and sets B to zero.
     *
     * @throws IllegalStateException when the layer is merged for inference
     */
    public void restart(SplittableRandom rng) {
        if (isMerged()) {
            throw new IllegalStateException("unmerge before restarting: a merged layer holds its update in the weight");
        }
        try (NDScope scope = new NDScope()) {
            base().weight().getArray().addi(delta());
            NDArray a = loraA().getArray();
            int in = (int) a.getShape().get(1);
            a.set(ALL, LoraConfig.uniform(a.getManager(), rank(), in, 1.0 / Math.sqrt(in), rng));
            loraB().getArray().set(ALL, 0f);
        }
    }
}
