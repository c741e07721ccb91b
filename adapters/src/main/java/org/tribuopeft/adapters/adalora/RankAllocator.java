package org.tribuopeft.adapters.adalora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.method.TrainingHook;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdaLoRA's rank allocator and orthogonal regulariser, driven by the training loop through
 * {@link TrainingHook} so a user cannot forget to call it. After each step it smooths each adapter
 * value's sensitivity |p·∇p| (EMA β1) and its uncertainty (EMA β2 of the deviation), scores every
 * triplet as s(Λ_i) + mean_j s(P_ij) + mean_k s(Q_ki) with s = sensitivity·uncertainty, and prunes the
 * lowest-scoring triplets down to the scheduled budget. At {@code totalStep − tfinal} the allocation
 * is fixed; afterwards pruned triplets are re-zeroed every step.
 *
 * <p>Where PEFT masks every score ≤ the k-th smallest (so ties can prune more than asked, and k = 0
 * crashes {@code kthvalue}), this prunes exactly the k lowest, ties broken by position, and k ≤ 0
 * prunes nothing: the final total rank is always exactly {@code targetR ×} the number of matrices.
 */
public final class RankAllocator implements TrainingHook {
    private final AdaLoraConfig config;
    private final Map<String, AdaLoraLinear> layers;
    private final NDManager manager;
    private final Map<String, NDArray> expAvgIpt = new HashMap<>();
    private final Map<String, NDArray> expAvgUnc = new HashMap<>();
    private BudgetSchedule schedule;
    private int lastBudget;
    private boolean fixed;

    /**
     * Creates an allocator over the given layers.
     *
     * @param config the AdaLoRA settings
     * @param layers AdaLoRA layers by full module name
     */
    public RankAllocator(AdaLoraConfig config, Map<String, AdaLoraLinear> layers) {
        this.config = config;
        this.layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
        NDManager owner = layers.values().iterator().next().loraE().getArray().getManager();
        this.manager = owner.newSubManager();
    }

    @Override
    public void beforeTraining(int totalSteps) {
        schedule = config.schedule(layers.size(), totalSteps);
        if (schedule.tinit() != config.tinit() || schedule.tfinal() != config.tfinal()) {
            System.err.println("AdaLoRA: " + scheduleNote());
        }
        lastBudget = schedule.initBudget();
        fixed = false;
    }

    private String scheduleNote() {
        return "tinit " + config.tinit() + " and tfinal " + config.tfinal() + " leave no budget decay in this run's "
                + schedule.totalStep() + " steps; scaled to tinit " + schedule.tinit() + " and tfinal "
                + schedule.tfinal() + " so that the decay takes half the run";
    }

    /** AdaLoRA's schedule phases when {@link #beforeTraining} had to fit them to a short run; else empty. */
    @Override
    public Map<String, String> resolvedSettings() {
        if (schedule == null || (schedule.tinit() == config.tinit() && schedule.tfinal() == config.tfinal())) {
            return Map.of();
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put("adalora-tinit", Integer.toString(schedule.tinit()));
        m.put("adalora-tfinal", Integer.toString(schedule.tfinal()));
        m.put("adalora-schedule-note", scheduleNote());
        return m;
    }

    /** The schedule in use (after {@link #beforeTraining}). */
    public BudgetSchedule schedule() {
        if (schedule == null) {
            throw new IllegalStateException("the allocator has not started; call beforeTraining first");
        }
        return schedule;
    }

    /** The budget set by the most recent mask. */
    public int lastBudget() {
        return lastBudget;
    }

    /** True once the final allocation is fixed. */
    public boolean isFixed() {
        return fixed;
    }

    @Override
    public NDArray regularization(ParameterStore ps) {
        List<NDArray> norms = new ArrayList<>();
        for (AdaLoraLinear l : layers.values()) {
            NDArray a = ps.getValue(l.loraA(), l.loraA().getArray().getDevice(), true);
            NDArray b = ps.getValue(l.loraB(), l.loraB().getArray().getDevice(), true);
            NDArray aat = a.matMul(a.transpose());
            NDArray btb = b.transpose().matMul(b);
            norms.add(frobenius(aat.sub(a.getManager().eye((int) aat.getShape().get(0)))));
            norms.add(frobenius(btb.sub(b.getManager().eye((int) btb.getShape().get(0)))));
        }
        NDArray sum = norms.get(0);
        for (int i = 1; i < norms.size(); i++) {
            sum = sum.add(norms.get(i));
        }
        return Scalars.mul(Scalars.div(sum, norms.size()), (float) config.orthRegWeight());
    }

    private static NDArray frobenius(NDArray m) {
        return m.square().sum().sqrt();
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    @Override
    public void afterStep(int step, Map<String, NDArray> gradients) {
        BudgetSchedule s = schedule();
        if (step < s.finalStep()) {
            updateImportance(gradients);
            BudgetSchedule.Decision d = s.at(step);
            if (d.mask()) {
                maskToBudget(d.budget());
            }
        } else if (step == s.finalStep()) {
            maskToBudget(s.targetBudget());
            fixed = true;
            resetImportance();
        } else {
            for (AdaLoraLinear l : layers.values()) {
                l.reapplyMask();
            }
        }
    }

    @Override
    public void afterTraining() {
        resetImportance();
    }

    private static final String IPT = "ipt/";
    private static final String UNC = "unc/";
    private static final String BUDGET = "lastBudget";
    private static final String FIXED = "fixed";

    /**
     * The sensitivity and uncertainty averages by parameter name, the last budget and whether the
     * allocation is fixed (budgets stay far below 2^24, so float holds them exactly). The masks
     * themselves live in the layers and travel with the model.
     */
    @Override
    public Map<String, HostTensor> checkpointState() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        expAvgIpt.forEach((k, v) -> out.put(IPT + k, HostTensor.of(v)));
        expAvgUnc.forEach((k, v) -> out.put(UNC + k, HostTensor.of(v)));
        out.put(BUDGET, new HostTensor(new long[] {1}, new float[] {lastBudget}));
        out.put(FIXED, new HostTensor(new long[] {1}, new float[] {fixed ? 1f : 0f}));
        return out;
    }

    @Override
    public void restoreCheckpointState(Map<String, HostTensor> state) {
        schedule();
        HostTensor budget = state.get(BUDGET);
        HostTensor fix = state.get(FIXED);
        if (budget == null || fix == null) {
            throw new IllegalArgumentException("AdaLoRA allocator state lacks '" + (budget == null ? BUDGET : FIXED)
                    + "'");
        }
        resetImportance();
        for (Map.Entry<String, HostTensor> e : state.entrySet()) {
            String key = e.getKey();
            if (key.equals(BUDGET) || key.equals(FIXED)) {
                continue;
            }
            Map<String, NDArray> target = key.startsWith(IPT) ? expAvgIpt : key.startsWith(UNC) ? expAvgUnc : null;
            String name = key.substring(key.indexOf('/') + 1);
            if (target == null || !knowsParameter(name)) {
                throw new IllegalArgumentException("AdaLoRA allocator state has an unknown entry '" + key + "'");
            }
            NDArray a = e.getValue().toNDArray(manager);
            NDScope.unregister(a);
            target.put(name, a);
        }
        lastBudget = (int) budget.data()[0];
        fixed = fix.data()[0] != 0f;
    }

    private boolean knowsParameter(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && layers.containsKey(name.substring(0, dot))
                && layers.get(name.substring(0, dot)).adapterParameters().containsKey(name.substring(dot + 1));
    }

    /** The kept-triplet mask of every layer, by module name (PEFT's rank_pattern). */
    public Map<String, boolean[]> rankPattern() {
        Map<String, boolean[]> out = new LinkedHashMap<>();
        layers.forEach((k, v) -> out.put(k, v.keptTriplets()));
        return out;
    }

    private void updateImportance(Map<String, NDArray> gradients) {
        float b1 = (float) config.beta1();
        float b2 = (float) config.beta2();
        for (Map.Entry<String, AdaLoraLinear> e : layers.entrySet()) {
            for (Map.Entry<String, ai.djl.nn.Parameter> p : e.getValue().adapterParameters().entrySet()) {
                String name = e.getKey() + "." + p.getKey();
                NDArray grad = gradients.get(name);
                if (grad == null) {
                    throw new IllegalStateException("no gradient for " + name);
                }
                NDArray value = p.getValue().getArray();
                NDArray avgIpt = expAvgIpt.computeIfAbsent(name, k -> persistentZeros(value));
                NDArray avgUnc = expAvgUnc.computeIfAbsent(name, k -> persistentZeros(value));
                try (NDScope scope = new NDScope()) {
                    NDArray ipt = value.mul(grad).abs();
                    avgIpt.muli(b1).addi(Scalars.mul(ipt, 1f - b1));
                    avgUnc.muli(b2).addi(Scalars.mul(ipt.sub(avgIpt).abs(), 1f - b2));
                }
            }
        }
    }

    /** Zeros that outlive the training step's NDScope. */
    private NDArray persistentZeros(NDArray like) {
        NDArray z = manager.zeros(like.getShape());
        NDScope.unregister(z);
        return z;
    }

    private void resetImportance() {
        expAvgIpt.values().forEach(NDArray::close);
        expAvgUnc.values().forEach(NDArray::close);
        expAvgIpt.clear();
        expAvgUnc.clear();
    }

    /** Triplet scores of one layer: s(Λ_i) + mean_j s(P_ij) + mean_k s(Q_ki). */
    private float[] tripletScores(String module, AdaLoraLinear layer) {
        int r = layer.initialRank();
        NDArray ea = expAvgIpt.get(module + ".lora_A");
        if (ea == null) {
            return new float[r];
        }
        try (NDScope scope = new NDScope()) {
            NDArray sA = score(module + ".lora_A").mean(new int[] {1});
            NDArray sB = score(module + ".lora_B").mean(new int[] {0});
            NDArray sE = score(module + ".lora_E").reshape(r);
            return sE.add(sA).add(sB).toFloatArray();
        }
    }

    private NDArray score(String name) {
        return expAvgIpt.get(name).mul(expAvgUnc.get(name));
    }

    private void maskToBudget(int budget) {
        int total = schedule.initBudget();
        int prune = total - budget;
        lastBudget = budget;
        List<String> modules = new ArrayList<>(layers.keySet());
        int r = config.initR();
        float[] all = new float[total];
        for (int m = 0; m < modules.size(); m++) {
            float[] s = tripletScores(modules.get(m), layers.get(modules.get(m)));
            System.arraycopy(s, 0, all, m * r, r);
        }
        boolean[] keep = new boolean[total];
        Arrays.fill(keep, true);
        if (prune > 0) {
            Integer[] order = new Integer[total];
            for (int i = 0; i < total; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (x, y) -> {
                int c = Float.compare(all[x], all[y]);
                return c != 0 ? c : Integer.compare(x, y);
            });
            for (int i = 0; i < prune; i++) {
                keep[order[i]] = false;
            }
        }
        for (int m = 0; m < modules.size(); m++) {
            layers.get(modules.get(m)).applyMask(Arrays.copyOfRange(keep, m * r, (m + 1) * r));
        }
    }
}
