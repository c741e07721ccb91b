package org.tribuopeft.adapters.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.TrainingHook;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop: shuffled mini-batches with dynamic padding, AdamW with a linear warm-up and
 * decay, global gradient-norm clipping, dropout on while training and off while evaluating, one
 * evaluation per epoch, early stopping that restores the best epoch, and the method's own hook
 * (AdaLoRA's regulariser and rank allocator) called at the right points. Every random choice comes
 * from the configured seed, so on the CPU the same seed, data and thread count give the same weights
 * bit for bit. Each step's native memory is released at the end of the step.
 */
public final class FineTuner {
    private final TrainingConfig config;
    private final ProgressListener listener;

    /**
     * Creates a loop.
     *
     * @param config the hyper-parameters
     * @param listener receives progress
     */
    public FineTuner(TrainingConfig config, ProgressListener listener) {
        this.config = config;
        this.listener = listener;
    }

    /**
     * Trains the model in place.
     *
     * @param model the model (its trainable parameters are updated)
     * @param train training examples (at least one)
     * @param validation held-out examples evaluated after every epoch (may be empty)
     * @return what happened
     * @throws IllegalArgumentException when an example's target width does not match the head
     * @throws IllegalStateException when the loss becomes NaN or infinite
     */
    public TrainingReport fit(TextModel model, List<LabelledText> train, List<LabelledText> validation) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        int outputs = model.head().outputs();
        checkTargets(train, outputs, "training");
        checkTargets(validation, outputs, "validation");
        long start = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(config.seed());
        SplittableRandom shuffleRng = rng.split();
        Engine engine = TorchRuntime.engine();
        engine.setRandomSeed((int) (rng.nextLong() & 0x7fffffff));

        TokenBatch tokens = model.tokenizer().encode(train.stream().map(LabelledText::text).toList());
        float[][] targets = train.stream().map(LabelledText::target).toArray(float[][]::new);
        int n = train.size();
        int stepsPerEpoch = (n + config.batchSize() - 1) / config.batchSize();
        int totalSteps = stepsPerEpoch * config.epochs();
        LinearWarmupSchedule schedule = new LinearWarmupSchedule(config.learningRate(),
                (int) Math.ceil(totalSteps * config.warmupRatio()), totalSteps);
        Map<String, Parameter> trainable = model.trainableParameters();
        TrainingHook hook = model.adapted().hook();
        hook.beforeTraining(totalSteps);
        AdamW optimizer = new AdamW(trainable, config.weightDecay());
        NDManager manager = model.manager();

        List<EpochResult> epochs = new ArrayList<>();
        List<Double> stepSeconds = new ArrayList<>();
        boolean higherBetter = ValidationMetric.higherIsBetter(model.task());
        double bestMetric = Double.NaN;
        int bestEpoch = 0;
        TextModel.Snapshot bestSnapshot = null;
        int epochsWithoutImprovement = 0;
        boolean stoppedEarly = false;
        int step = 0;
        double recentRate = Double.NaN;
        try {
            for (int epoch = 1; epoch <= config.epochs(); epoch++) {
                long epochStart = System.nanoTime();
                int[] order = permutation(n, shuffleRng);
                double lossSum = 0;
                for (int b = 0; b < stepsPerEpoch; b++) {
                    long stepStart = System.nanoTime();
                    int[] idx = Arrays.copyOfRange(order, b * config.batchSize(),
                            Math.min(n, (b + 1) * config.batchSize()));
                    double lr = schedule.at(step);
                    double loss = trainStep(model, manager, tokens.select(idx), rows(targets, idx), optimizer, hook, lr,
                            step + 1);
                    if (Double.isNaN(loss) || Double.isInfinite(loss)) {
                        throw new IllegalStateException("training diverged at epoch " + epoch + ", step " + (step + 1)
                                + ": the loss is " + loss + "; lower the learning rate (" + config.learningRate() + ")");
                    }
                    step++;
                    lossSum += loss;
                    double secs = (System.nanoTime() - stepStart) / 1e9;
                    stepSeconds.add(secs);
                    recentRate = Double.isNaN(recentRate) ? 1 / secs : 0.8 * recentRate + 0.2 / secs;
                    listener.onStep(new StepProgress(epoch, config.epochs(), step, totalSteps, loss, lossSum / (b + 1), lr,
                            recentRate, (totalSteps - step) / recentRate));
                }
                double[] val = evaluate(model, validation);
                EpochResult result = new EpochResult(epoch, stepsPerEpoch, lossSum / stepsPerEpoch, val[0],
                        ValidationMetric.name(model.task()), val[1], (System.nanoTime() - epochStart) / 1e9);
                epochs.add(result);
                listener.onEpoch(result);
                boolean improved = bestEpoch == 0 || (!Double.isNaN(val[1])
                        && (higherBetter ? val[1] > bestMetric : val[1] < bestMetric));
                if (improved) {
                    bestMetric = val[1];
                    bestEpoch = epoch;
                    epochsWithoutImprovement = 0;
                    if (config.earlyStoppingPatience() > 0 && epoch < config.epochs()) {
                        bestSnapshot = model.snapshot();
                    }
                } else {
                    epochsWithoutImprovement++;
                }
                if (config.earlyStoppingPatience() > 0 && !validation.isEmpty()
                        && epochsWithoutImprovement >= config.earlyStoppingPatience() && epoch < config.epochs()) {
                    stoppedEarly = true;
                    listener.onEarlyStop(epoch, bestEpoch);
                    break;
                }
            }
            int lastEpoch = epochs.size();
            if (config.earlyStoppingPatience() > 0 && bestEpoch != lastEpoch && bestSnapshot != null) {
                model.restore(bestSnapshot);
            } else {
                bestEpoch = lastEpoch;
            }
            hook.afterTraining();
        } finally {
            optimizer.close();
        }
        double[] sorted = stepSeconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
        double mean = Arrays.stream(sorted).average().orElse(Double.NaN);
        return new TrainingReport(epochs, config.epochs(), totalSteps, step, bestEpoch, stoppedEarly, median, mean,
                (System.nanoTime() - start) / 1e9);
    }

    private double trainStep(TextModel model, NDManager manager, TokenBatch batch, float[][] targetRows,
                             AdamW optimizer, TrainingHook hook, double lr, int stepNumber) {
        Map<String, Parameter> trainable = model.trainableParameters();
        try (NDScope scope = new NDScope()) {
            NDList inputs = batch.toNDList(manager);
            NDArray targets = manager.create(targetRows);
            ParameterStore ps = new ParameterStore(manager, false);
            NDArray total;
            try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                NDArray logits = model.logits(ps, inputs, true);
                total = model.task().loss(logits, targets);
                NDArray reg = hook.regularization(ps);
                if (reg != null) {
                    total = total.add(reg);
                }
                gc.backward(total);
            }
            double loss = total.getFloat();
            double scale = 1.0;
            if (config.maxGradNorm() > 0) {
                NDArray sq = null;
                for (Parameter p : trainable.values()) {
                    NDArray s = p.getArray().getGradient().square().sum();
                    sq = sq == null ? s : sq.add(s);
                }
                double norm = Math.sqrt(sq.getFloat());
                if (norm > config.maxGradNorm()) {
                    scale = config.maxGradNorm() / (norm + 1e-6);
                }
            }
            Map<String, NDArray> grads = new LinkedHashMap<>();
            if (hook.needsGradients()) {
                for (Map.Entry<String, Parameter> e : trainable.entrySet()) {
                    grads.put(e.getKey(), Scalars.mul(e.getValue().getArray().getGradient(), (float) scale));
                }
            }
            optimizer.step(lr, scale);
            hook.afterStep(stepNumber, grads);
            return loss;
        }
    }

    /** Mean task loss and metric on a split; NaNs for an empty split. */
    private double[] evaluate(TextModel model, List<LabelledText> examples) {
        if (examples.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN};
        }
        List<String> texts = examples.stream().map(LabelledText::text).toList();
        float[][] targets = examples.stream().map(LabelledText::target).toArray(float[][]::new);
        float[][] logits = model.predictLogits(texts, config.evalBatchSize());
        double loss;
        float[][] outputs;
        try (NDManager m = model.manager().newSubManager()) {
            NDArray l = m.create(logits);
            loss = model.task().loss(l, m.create(targets)).getFloat();
            outputs = toRows(model.task().activate(l));
        }
        return new double[] {loss, ValidationMetric.compute(model.task(), outputs, targets)};
    }

    private static float[][] toRows(NDArray a) {
        int rows = (int) a.getShape().get(0);
        int cols = (int) a.getShape().get(1);
        float[] flat = a.toFloatArray();
        float[][] out = new float[rows][cols];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(flat, i * cols, out[i], 0, cols);
        }
        return out;
    }

    private static void checkTargets(List<LabelledText> examples, int outputs, String split) {
        for (int i = 0; i < examples.size(); i++) {
            if (examples.get(i).target().length != outputs) {
                throw new IllegalArgumentException(split + " example " + i + " has a target of width "
                        + examples.get(i).target().length + " but the head has " + outputs + " outputs");
            }
        }
    }

    private static float[][] rows(float[][] all, int[] idx) {
        float[][] out = new float[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = all[idx[i]];
        }
        return out;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates) from {@code rng}. */
    public static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
