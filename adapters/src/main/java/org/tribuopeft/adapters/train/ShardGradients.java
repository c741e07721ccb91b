package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.TrainingHook;

import java.util.List;
import java.util.Map;

/**
 * The gradient side of a data-parallel step: each shard part's weighted loss differentiated on its own, copied off
 * the engine into one flat buffer (every trainable parameter in training order, then the loss), and the parts
 * added in rank order; and the summed buffer written back as the parameters' gradients. One layout of the buffer
 * for every replica makes the exchange a plain element-wise sum.
 */
final class ShardGradients {
    private ShardGradients() {}

    /** The length of the buffer: every trainable value and one slot for the loss. */
    static int bufferLength(Map<String, Parameter> trainable) {
        long n = 1;
        for (Parameter p : trainable.values()) {
            n += p.getArray().getShape().size();
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(n + " trainable values do not fit one gradient buffer");
        }
        return (int) n;
    }

    /**
     * This process's share of one step's gradient: for each part in rank order, the gradient of
     * {@code weight · mean loss of its rows} (plus the method's regulariser for rank 0 only), added in rank order.
     * Leaves every parameter gradient zero. Each part's forward and backward pass runs in {@code precision}, as a
     * one-process step does.
     */
    static float[] local(TextModel model, NDManager manager, TokenBatch tokens, float[][] targets,
                         List<ShardPlan.Part> parts, TrainingHook hook, long dropoutSeed, int step,
                         ComputePrecision precision) {
        Map<String, Parameter> trainable = model.trainableParameters();
        int length = bufferLength(trainable);
        float[] sum = null;
        for (ShardPlan.Part part : parts) {
            float[] g = new float[length];
            TorchRuntime.engine().setRandomSeed(FineTuner.stepSeed(dropoutSeed + 0x632BE59BD9B4E019L * (part.rank() + 1),
                    step));
            try (NDScope scope = new NDScope()) {
                ParameterStore ps = new ParameterStore(manager, false);
                NDArray total = null;
                try (GradientCollector gc = TorchRuntime.engine().newGradientCollector();
                     ComputePrecision.Scope scoped = ComputePrecision.use(precision)) {
                    if (part.rows().length > 0) {
                        NDList inputs = tokens.select(part.rows()).toNDList(manager);
                        NDArray logits = model.logits(ps, inputs, true);
                        NDArray rowTargets = manager.create(rows(targets, part.rows()));
                        total = Scalars.mul(model.task().loss(logits, rowTargets), part.weight());
                    }
                    if (part.rank() == 0) {
                        NDArray reg = hook.regularization(ps);
                        if (reg != null) {
                            total = total == null ? reg : total.add(reg);
                        }
                    }
                    if (total != null) {
                        gc.backward(total);
                    }
                }
                if (total != null) {
                    int at = 0;
                    for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
                        NDArray grad = e.getValue().getArray().getGradient();
                        if (grad.getDataType() != DataType.FLOAT32) {
                            throw new IllegalStateException("the gradient of '" + e.getKey() + "' is "
                                    + grad.getDataType() + "; data-parallel training exchanges float32 gradients");
                        }
                        float[] v = grad.toFloatArray();
                        System.arraycopy(v, 0, g, at, v.length);
                        at += v.length;
                        grad.set(new NDIndex("..."), 0f);
                    }
                    g[length - 1] = total.getFloat();
                }
            }
            if (sum == null) {
                sum = g;
            } else {
                for (int i = 0; i < length; i++) {
                    sum[i] += g[i];
                }
            }
        }
        return sum;
    }

    /** Writes the summed buffer back as every trainable parameter's gradient and returns the summed loss. */
    static double writeBack(Map<String, Parameter> trainable, float[] summed) {
        if (summed.length != bufferLength(trainable)) {
            throw new IllegalStateException("the summed gradient has " + summed.length + " values but this model "
                    + "trains " + (bufferLength(trainable) - 1));
        }
        int at = 0;
        for (Parameter p : trainable.values()) {
            NDArray grad = p.getArray().getGradient();
            int n = (int) grad.getShape().size();
            float[] slice = java.util.Arrays.copyOfRange(summed, at, at + n);
            try (NDArray src = grad.getManager().create(slice, grad.getShape())) {
                grad.set(new NDIndex("..."), src);
            }
            at += n;
        }
        return summed[summed.length - 1];
    }

    private static float[][] rows(float[][] all, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = all[idx[i]];
        }
        return out;
    }
}
