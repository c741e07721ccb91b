package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import org.tribuopeft.adapters.engine.TorchScriptOps;
import org.tribuopeft.adapters.method.OptimizerMoments;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AdamW (decoupled weight decay, Loshchilov and Hutter) over named parameters, using PyTorch's fused
 * CPU AdamW kernel over all parameters of a decay group at once (one call instead of about nine
 * operators per parameter), which then zeroes the gradients (DJL's PyTorch collector never does).
 * Weight decay skips biases and LayerNorm parameters, as Hugging Face's Trainer does. Its moments can be pruned by magnitude between steps ({@link OptimizerMoments}).
 */
public final class AdamW implements OptimizerMoments {
    private final Map<String, Parameter> parameters;
    private final Set<String> noDecay;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final Map<String, NDArray> means = new HashMap<>();
    private final Map<String, NDArray> variances = new HashMap<>();
    private int steps;

    /**
     * Creates the optimizer.
     *
     * @param parameters what it updates, by full name
     * @param weightDecay the decoupled decay coefficient
     */
    public AdamW(Map<String, Parameter> parameters, double weightDecay) {
        this(parameters, weightDecay, 0.9, 0.999, 1e-8);
    }

    /** Creates the optimizer with explicit betas and epsilon. */
    public AdamW(Map<String, Parameter> parameters, double weightDecay, double beta1, double beta2, double epsilon) {
        this.parameters = new LinkedHashMap<>(parameters);
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.noDecay = new java.util.HashSet<>();
        parameters.forEach((name, p) -> {
            if (excludedFromDecay(name, p)) {
                noDecay.add(name);
            }
        });
    }

    /** True for biases and LayerNorm weights, which are not decayed. */
    public static boolean excludedFromDecay(String name, Parameter p) {
        return name.endsWith(".bias") || name.contains("LayerNorm") || p.getType() == Parameter.Type.BIAS
                || p.getType() == Parameter.Type.GAMMA || p.getType() == Parameter.Type.BETA;
    }

    /** The names exempt from weight decay. */
    public Set<String> noDecayNames() {
        return Set.copyOf(noDecay);
    }

    /** Steps taken so far. */
    public int steps() {
        return steps;
    }

    /**
     * Applies one update to every parameter from its current gradient, then zeroes the gradients. The update is
     * PyTorch's {@code AdamW(fused=True)}: {@code p ← p·(1 − lr·wd)}, then
     * {@code p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)}, done by one fused kernel call per decay group.
     *
     * @param learningRate this step's learning rate
     * @param gradientScale factor applied to every gradient first (gradient-norm clipping)
     */
    public void step(double learningRate, double gradientScale) {
        step(learningRate, gradientScale, null);
    }

    /**
     * Applies one update to every parameter from the given gradients (fresh arrays, e.g. from
     * {@link TorchScriptOps#gradients}), which it scales in place; the parameters' own gradient buffers are not
     * read or zeroed.
     *
     * @param learningRate this step's learning rate
     * @param gradientScale factor applied to every gradient first (gradient-norm clipping)
     * @param gradients one array per trained parameter, by name
     * @throws IllegalArgumentException naming a trained parameter without a gradient
     */
    public void step(double learningRate, double gradientScale, Map<String, NDArray> gradients) {
        if (gradients != null) {
            for (String name : parameters.keySet()) {
                if (!gradients.containsKey(name)) {
                    throw new IllegalArgumentException("no gradient given for the trained parameter '" + name + "'");
                }
            }
        }
        steps++;
        if (parameters.isEmpty()) {
            return;
        }
        List<String> decayed = new ArrayList<>();
        List<String> undecayed = new ArrayList<>();
        for (String name : parameters.keySet()) {
            (noDecay.contains(name) ? undecayed : decayed).add(name);
        }
        try (NDScope scope = new NDScope()) {
            NDArray first = parameters.values().iterator().next().getArray();
            // the kernel reads the step number from a float32 tensor per parameter; one tensor serves them all
            NDArray step = first.getManager().create((float) steps);
            update(decayed, gradients, step, learningRate, weightDecay, gradientScale);
            update(undecayed, gradients, step, learningRate, 0.0, gradientScale);
        }
    }

    private void update(List<String> names, Map<String, NDArray> gradients, NDArray step, double lr, double decay,
                        double gradientScale) {
        if (names.isEmpty()) {
            return;
        }
        List<NDArray> weights = new ArrayList<>(names.size());
        List<NDArray> grads = new ArrayList<>(names.size());
        List<NDArray> firsts = new ArrayList<>(names.size());
        List<NDArray> seconds = new ArrayList<>(names.size());
        List<NDArray> stepList = new ArrayList<>(names.size());
        for (String name : names) {
            NDArray weight = parameters.get(name).getArray();
            weights.add(weight);
            grads.add(gradients == null ? weight.getGradient() : gradients.get(name));
            firsts.add(state(means, name, weight));
            seconds.add(state(variances, name, weight));
            stepList.add(step);
        }
        TorchScriptOps.get().adamwGroup(weights, grads, firsts, seconds, stepList, lr, beta1, beta2, decay, epsilon,
                gradientScale, gradients == null);
    }

    private static NDArray state(Map<String, NDArray> states, String name, NDArray weight) {
        NDArray s = states.get(name);
        if (s == null) {
            s = weight.zerosLike();
            NDScope.unregister(s);
            states.put(name, s);
        }
        return s;
    }

    @Override
    public long prune(Collection<String> parameterNames, double ratio) {
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new IllegalArgumentException("prune ratio must be in [0, 1], got " + ratio);
        }
        for (String name : parameterNames) {
            if (!parameters.containsKey(name)) {
                throw new IllegalArgumentException("cannot prune the moments of '" + name + "', which this optimizer "
                        + "does not train");
            }
        }
        long zeroed = 0;
        for (String name : parameterNames) {
            for (Map<String, NDArray> states : List.of(means, variances)) {
                NDArray s = states.get(name);
                if (s != null) {
                    zeroed += zeroSmallest(s, ratio);
                }
            }
        }
        return zeroed;
    }

    /** Zeroes the floor(ratio·size) smallest-magnitude entries of one moment tensor in place. */
    private static long zeroSmallest(NDArray moment, double ratio) {
        HostTensor host = HostTensor.of(moment);
        float[] v = host.data();
        int k = (int) Math.floor(ratio * v.length);
        if (k == 0) {
            return 0;
        }
        // |v| as non-negative float bits orders like the value; the low half keeps the position for ties
        long[] keys = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            keys[i] = ((long) Float.floatToIntBits(Math.abs(v[i])) << 32) | i;
        }
        Arrays.sort(keys);
        for (int j = 0; j < k; j++) {
            v[(int) keys[j]] = 0f;
        }
        HostTensor.copyInto(host, moment);
        return k;
    }

    /** The first moments by parameter name, copied off the engine (empty before the first step). */
    public Map<String, HostTensor> firstMoments() {
        return copy(means);
    }

    /** The second moments by parameter name, copied off the engine (empty before the first step). */
    public Map<String, HostTensor> secondMoments() {
        return copy(variances);
    }

    private Map<String, HostTensor> copy(Map<String, NDArray> states) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String name : parameters.keySet()) {
            if (states.containsKey(name)) {
                out.put(name, HostTensor.of(states.get(name)));
            }
        }
        return out;
    }

    /**
     * Puts the optimizer back where a checkpoint left it: moments and step count, so the bias
     * corrections and every later update are the uninterrupted run's.
     *
     * @throws IllegalArgumentException naming a moment for an unknown parameter or of the wrong shape
     */
    public void restore(Map<String, HostTensor> firstMoments, Map<String, HostTensor> secondMoments, int stepsTaken) {
        if (stepsTaken < 0) {
            throw new IllegalArgumentException("stepsTaken must be >= 0, got " + stepsTaken);
        }
        close();
        load(means, firstMoments, "first");
        load(variances, secondMoments, "second");
        this.steps = stepsTaken;
    }

    private void load(Map<String, NDArray> states, Map<String, HostTensor> values, String which) {
        for (Map.Entry<String, HostTensor> e : values.entrySet()) {
            Parameter p = parameters.get(e.getKey());
            if (p == null) {
                throw new IllegalArgumentException(which + " moment given for '" + e.getKey()
                        + "', which is not a trained parameter");
            }
            NDArray weight = p.getArray();
            if (!java.util.Arrays.equals(weight.getShape().getShape(), e.getValue().shape())) {
                throw new IllegalArgumentException(which + " moment of '" + e.getKey() + "' has shape "
                        + java.util.Arrays.toString(e.getValue().shape()) + " but the parameter has " + weight.getShape());
            }
            NDArray s = e.getValue().toNDArray(weight.getManager());
            NDScope.unregister(s);
            states.put(e.getKey(), s);
        }
    }

    /** Frees the optimizer state. */
    public void close() {
        means.values().forEach(NDArray::close);
        variances.values().forEach(NDArray::close);
        means.clear();
        variances.clear();
    }
}
