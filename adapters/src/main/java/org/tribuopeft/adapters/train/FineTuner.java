package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.checkpoint.CheckpointMismatchException;
import org.tribuopeft.adapters.checkpoint.CheckpointReader;
import org.tribuopeft.adapters.checkpoint.CheckpointSettings;
import org.tribuopeft.adapters.checkpoint.CheckpointWriter;
import org.tribuopeft.adapters.checkpoint.TrainingState;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.engine.Scalars;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.engine.TorchScriptOps;
import org.tribuopeft.adapters.method.TrainingHook;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/**
 * The training loop: shuffled mini-batches with dynamic padding, AdamW with a linear warm-up and
 * decay, global gradient-norm clipping, dropout on while training and off while evaluating, one
 * evaluation per epoch, early stopping that restores the best epoch, and the method's own hook
 * (AdaLoRA's regulariser and rank allocator, ReLoRA's resets and learning-rate schedule) called at
 * the right points. Every random choice comes
 * from the configured seed (the shuffle by epoch, the dropout masks by step), so on the CPU the same
 * seed, data and thread count give the same weights bit for bit, whether the run was checkpointed,
 * resumed, or ran beside another training in the same JVM. Each step's native memory is released
 * at the end of the step.
 * <p>
 * Each step's forward and backward pass runs in the configured {@link TrainingConfig#computePrecision()} (a
 * {@link ComputePrecision#use} scope on the training thread, on every replica of a data-parallel run too); the
 * gradient norm, clipping, AdamW, the method's hook and the per-epoch evaluation always run in float32, so the
 * validation metric that early stopping compares does not depend on the setting.
 */
public final class FineTuner {
    private final TrainingConfig config;
    private final ProgressListener listener;
    private final CheckpointSettings checkpoints;
    private final Path resumeFrom;
    private final PrintStream notices;
    private final DataParallel dataParallel;

    /**
     * Creates a loop without checkpoints.
     *
     * @param config the hyper-parameters
     * @param listener receives progress
     */
    public FineTuner(TrainingConfig config, ProgressListener listener) {
        this(config, listener, CheckpointSettings.OFF, null, System.err, null);
    }

    private FineTuner(TrainingConfig config, ProgressListener listener, CheckpointSettings checkpoints,
                      Path resumeFrom, PrintStream notices, DataParallel dataParallel) {
        this.config = config;
        this.listener = listener;
        this.checkpoints = checkpoints;
        this.resumeFrom = resumeFrom;
        this.notices = notices;
        this.dataParallel = dataParallel;
    }

    /** A copy that saves checkpoints as {@code settings} says (they do not change the trained weights). */
    public FineTuner withCheckpoints(CheckpointSettings settings) {
        return new FineTuner(config, listener, settings, resumeFrom, notices, dataParallel);
    }

    /**
     * A copy that continues the run from the newest valid checkpoint in {@code checkpointDir} (null
     * starts afresh). The checkpoint must come from this same run: same seed, data, method and loop
     * settings.
     */
    public FineTuner resumingFrom(Path checkpointDir) {
        return new FineTuner(config, listener, checkpoints, checkpointDir, notices, dataParallel);
    }

    /** A copy that prints checkpoint notices (skipped checkpoints, where it resumed) to {@code out}. */
    public FineTuner withNotices(PrintStream out) {
        return new FineTuner(config, listener, checkpoints, resumeFrom, out, dataParallel);
    }

    /**
     * A copy that trains one replica of a data-parallel run (or, for a {@link DataParallel#simulated} layout, every
     * replica in turn): {@link #fit} then takes this replica's shard (all shards in rank order when simulated) and
     * no validation data, the configured batch size is the global batch, and gradients are summed across replicas
     * before clipping and the optimizer step. Only rank 0 writes checkpoints; on resume every replica continues from
     * the checkpoint rank 0 picks.
     */
    public FineTuner withDataParallel(DataParallel layout) {
        return new FineTuner(config, listener, checkpoints, resumeFrom, notices, layout);
    }

    /**
     * Trains the model in place.
     *
     * @param model the model (its trainable parameters are updated)
     * @param train training examples (at least one)
     * @param validation held-out examples evaluated after every epoch (may be empty)
     * @return what happened
     * @throws IllegalArgumentException when an example's target width does not match the head
     * @throws TrainingDivergedException when the loss or a gradient becomes NaN or infinite
     * @throws org.tribuopeft.adapters.checkpoint.CheckpointException when a checkpoint cannot be saved,
     *     or resuming finds no valid checkpoint or one of another run
     */
    public TrainingReport fit(TextModel model, List<LabelledText> train, List<LabelledText> validation) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training examples");
        }
        int outputs = model.head().outputs();
        checkTargets(train, outputs, "training");
        checkTargets(validation, outputs, "validation");
        model.adapted().encoder().quantization().filter(q -> config.computePrecision() != ComputePrecision.FLOAT32)
                .ifPresent(q -> {
                    throw new IllegalArgumentException("computePrecision " + config.computePrecision().configName()
                            + " cannot apply to a base quantized as " + q + ": its Linear layers compute in the "
                            + "quantization's computeType (float32); train in float32 or on a float32 base");
                });
        long start = System.nanoTime();
        TorchRuntime.gradientsOffOnThisThread();
        SplittableRandom rng = new SplittableRandom(config.seed());
        SplittableRandom shuffleRng = rng.split();
        long dropoutSeed = rng.nextLong();

        TokenBatch tokens = model.tokenizer().encode(train.stream().map(LabelledText::text).toList());
        // The encoder holds its own copy of the pretrained weights on its device; the backbone's Java copy is not
        // needed while training (an export after it reads the weights again). Loading the model (the weights file
        // parsed on the heap) also leaves the heap far larger than what stays alive; one collection now lets the
        // JVM hand those pages back before the steps' native memory peaks.
        model.backbone().releaseWeights();
        System.gc();
        float[][] targets = train.stream().map(LabelledText::target).toArray(float[][]::new);
        int n = train.size();
        ShardPlan plan = dataParallel == null ? null : plan(train, validation, shuffleRng);
        int stepsPerEpoch = plan != null ? plan.stepsPerEpoch() : (n + config.batchSize() - 1) / config.batchSize();
        int totalSteps = stepsPerEpoch * config.epochs();
        int warmupSteps = (int) Math.ceil(totalSteps * config.warmupRatio());
        LinearWarmupSchedule planned = new LinearWarmupSchedule(config.learningRate(), warmupSteps, totalSteps);
        Map<String, Parameter> trainable = model.trainableParameters();
        TrainingHook hook = model.adapted().hook();
        IntToDoubleFunction schedule = hook.learningRates(planned::at, config.learningRate(), warmupSteps, totalSteps);
        hook.beforeTraining(totalSteps);
        AdamW optimizer = new AdamW(trainable, config.weightDecay());
        NDManager manager = model.manager();
        Map<String, String> fingerprint = RunFingerprint.of(config, model, train, validation);
        if (plan != null) {
            RunFingerprint.dataParallel(fingerprint, plan, ReplicaAgreement.dataDigest(plan, train));
        }
        boolean writes = checkpoints.enabled() && (plan == null || plan.playsRankZero());
        CheckpointWriter writer = writes ? new CheckpointWriter(checkpoints) : null;

        List<Double> stepSeconds = new ArrayList<>();
        List<Double> stepLosses = new ArrayList<>();
        boolean higherBetter = ValidationMetric.higherIsBetter(model.task());
        LoopPosition p = new LoopPosition();
        double recentRate = Double.NaN;
        try {
            if (writer != null && (resumeFrom == null || !sameFolder(resumeFrom, checkpoints.directory()))) {
                writer.requireNoCheckpoints();
            }
            if (resumeFrom != null) {
                resume(p, model, optimizer, hook, fingerprint);
            }
            for (int e = 1; e < p.epoch; e++) {
                if (plan == null) {
                    permutation(n, shuffleRng);
                } else {
                    plan.nextEpochOrders();
                }
            }
            while (!p.stoppedEarly && p.epoch <= config.epochs()) {
                int epoch = p.epoch;
                long epochStart = System.nanoTime();
                int[][] shardOrders = plan == null ? null : plan.nextEpochOrders();
                // a data-parallel checkpoint records rank 0's shuffle, which only the process playing rank 0 can check
                int[] order = plan == null ? permutation(n, shuffleRng)
                        : plan.playsRankZero() ? shardOrders[0] : p.resumedOrder;
                if (p.nextBatch > 0 && !Arrays.equals(order, p.resumedOrder)) {
                    throw new CheckpointMismatchException("order", "checkpoint " + p.lastCheckpoint + " recorded another "
                            + "example order for epoch " + epoch + " than this run draws; it was written by another "
                            + "version or run; start without resuming");
                }
                for (int b = p.nextBatch; b < stepsPerEpoch; b++) {
                    long stepStart = System.nanoTime();
                    double lr = schedule.applyAsDouble(p.step);
                    double loss;
                    if (plan == null) {
                        int[] idx = Arrays.copyOfRange(order, b * config.batchSize(),
                                Math.min(n, (b + 1) * config.batchSize()));
                        TokenBatch batch = tokens.select(idx);
                        float[][] batchTargets = rows(targets, idx);
                        loss = EngineLock.call(() -> trainStep(model, manager, batch, batchTargets, optimizer, hook,
                                lr, p, stepSeed(dropoutSeed, p.step)));
                    } else {
                        List<ShardPlan.Part> parts = plan.parts(shardOrders, b);
                        int stepIndex = p.step;
                        float[] local = EngineLock.call(() -> ShardGradients.local(model, manager, tokens, targets,
                                parts, hook, dropoutSeed, stepIndex, config.computePrecision()));
                        // outside the engine lock: replicas in one JVM wait for each other here
                        float[] summed = plan.layout().isSimulated() ? local
                                : plan.layout().exchange().sumInRankOrder(local);
                        loss = EngineLock.call(() -> applySummed(model, summed, optimizer, hook, lr, p));
                    }
                    p.step++;
                    p.lossSum += loss;
                    p.nextBatch = b + 1;
                    double secs = (System.nanoTime() - stepStart) / 1e9;
                    stepSeconds.add(secs);
                    stepLosses.add(loss);
                    recentRate = Double.isNaN(recentRate) ? 1 / secs : 0.8 * recentRate + 0.2 / secs;
                    listener.onStep(new StepProgress(epoch, config.epochs(), p.step, totalSteps, loss,
                            p.lossSum / (b + 1), lr, recentRate, (totalSteps - p.step) / recentRate));
                    if (writer != null && checkpoints.everySteps() > 0 && p.step % checkpoints.everySteps() == 0
                            && b + 1 < stepsPerEpoch) {
                        save(writer, p, order, model, optimizer, hook, fingerprint);
                    }
                }
                double[] val = EngineLock.call(() -> evaluate(model, validation));
                EpochResult result = new EpochResult(epoch, stepsPerEpoch, p.lossSum / stepsPerEpoch, val[0],
                        ValidationMetric.name(model.task()), val[1], (System.nanoTime() - epochStart) / 1e9);
                p.epochs.add(result);
                listener.onEpoch(result);
                boolean improved = p.bestEpoch == 0 || (!Double.isNaN(val[1])
                        && (higherBetter ? val[1] > p.bestMetric : val[1] < p.bestMetric));
                if (improved) {
                    p.bestMetric = val[1];
                    p.bestEpoch = epoch;
                    p.epochsWithoutImprovement = 0;
                    if (config.earlyStoppingPatience() > 0 && epoch < config.epochs()) {
                        p.best = model.snapshot();
                    }
                } else {
                    p.epochsWithoutImprovement++;
                }
                if (config.earlyStoppingPatience() > 0 && !validation.isEmpty()
                        && p.epochsWithoutImprovement >= config.earlyStoppingPatience() && epoch < config.epochs()) {
                    p.stoppedEarly = true;
                    listener.onEarlyStop(epoch, p.bestEpoch);
                }
                p.epoch++;
                p.nextBatch = 0;
                p.lossSum = 0;
                if (writer != null) {
                    save(writer, p, new int[0], model, optimizer, hook, fingerprint);
                }
            }
            int lastEpoch = p.epochs.size();
            if (config.earlyStoppingPatience() > 0 && p.bestEpoch != lastEpoch && p.best != null) {
                model.restore(p.best);
            } else {
                p.bestEpoch = lastEpoch;
            }
            hook.afterTraining();
        } finally {
            optimizer.close();
        }
        double[] sorted = stepSeconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
        double mean = Arrays.stream(sorted).average().orElse(Double.NaN);
        return new TrainingReport(p.epochs, config.epochs(), totalSteps, p.step, p.bestEpoch, p.stoppedEarly, median,
                mean, (System.nanoTime() - start) / 1e9, stepLosses);
    }

    /** The data-parallel plan of this run, after checking that the data fits the layout. */
    private ShardPlan plan(List<LabelledText> train, List<LabelledText> validation, SplittableRandom shuffleRng) {
        if (!validation.isEmpty()) {
            throw new IllegalArgumentException("data-parallel training takes no validation data (got "
                    + validation.size() + " examples); evaluate the trained model instead");
        }
        if (train.size() != dataParallel.localExamples()) {
            throw new IllegalArgumentException((dataParallel.isSimulated() ? "the shards together" : "shard "
                    + dataParallel.rank()) + " should hold " + dataParallel.localExamples() + " examples by the layout "
                    + dataParallel + " but " + train.size() + " were given");
        }
        return new ShardPlan(dataParallel, config.batchSize(), shuffleRng);
    }

    private static boolean sameFolder(Path a, Path b) {
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    /** The dropout seed of one step: a fixed function of the run's seed and the step, so resuming redraws it. */
    static int stepSeed(long dropoutSeed, int step) {
        return new SplittableRandom(dropoutSeed + 0x9E3779B97F4A7C15L * step).nextInt() & 0x7fffffff;
    }

    private void save(CheckpointWriter writer, LoopPosition p, int[] order, TextModel model, AdamW optimizer,
                      TrainingHook hook, Map<String, String> fingerprint) {
        p.lastCheckpoint = writer.save(p.toState(order, fingerprint, model.snapshot(), optimizer, hook));
    }

    private void resume(LoopPosition p, TextModel model, AdamW optimizer, TrainingHook hook,
                        Map<String, String> fingerprint) {
        CheckpointReader.Loaded loaded = dataParallel != null && !dataParallel.isSimulated()
                ? ReplicaAgreement.checkpoint(dataParallel, resumeFrom, notices)
                : CheckpointReader.newestValid(resumeFrom, notices::println);
        TrainingState s = loaded.state();
        RunFingerprint.requireSame(fingerprint, s.fingerprint(), loaded.folder());
        try {
            model.restore(new TextModel.Snapshot(s.parameters(), s.rankMasks()));
            optimizer.restore(s.firstMoments(), s.secondMoments(), s.optimizerSteps());
            hook.restoreCheckpointState(s.hookState());
        } catch (IllegalArgumentException e) {
            throw new CheckpointMismatchException("tensors", "checkpoint " + loaded.folder() + " does not fit this "
                    + "model: " + e.getMessage() + "; resume with the settings of the run that wrote it");
        }
        p.continueFrom(s, loaded.folder());
        notices.println("resuming from " + loaded.folder() + " (after step " + s.globalStep() + " of epoch "
                + (s.nextBatch() == 0 ? s.epoch() - 1 : s.epoch()) + ")");
    }

    private double trainStep(TextModel model, NDManager manager, TokenBatch batch, float[][] targetRows,
                             AdamW optimizer, TrainingHook hook, double lr, LoopPosition p, int dropoutSeed) {
        Map<String, Parameter> trainable = model.trainableParameters();
        TorchRuntime.engine().setRandomSeed(dropoutSeed);
        int stepNumber = p.step + 1;
        try (NDScope scope = new NDScope()) {
            NDList inputs = batch.toNDList(manager);
            NDArray targets = manager.create(targetRows);
            ParameterStore ps = new ParameterStore(manager, false);
            NDArray total;
            NDArray[] g;
            try (GradientCollector gc = TorchRuntime.engine().newGradientCollector();
                 ComputePrecision.Scope precision = ComputePrecision.use(config.computePrecision())) {
                NDArray logits = model.logits(ps, inputs, true);
                total = model.task().loss(logits, targets);
                NDArray reg = hook.regularization(ps);
                if (reg != null) {
                    total = total.add(reg);
                }
                // fresh gradients, as PyTorch's zero_grad(set_to_none=True) gives: backward writes each one once
                // instead of adding it into a buffer that the optimizer then has to zero again
                g = TorchScriptOps.get().gradients(total, trainable.values().stream().map(Parameter::getArray).toList());
            }
            Map<String, NDArray> grads = new LinkedHashMap<>();
            int i = 0;
            for (String name : trainable.keySet()) {
                grads.put(name, g[i++]);
            }
            try {
                return finishStep(grads, total.getFloat(), optimizer, hook, lr, p, stepNumber, true);
            } finally {
                for (NDArray a : g) {
                    a.close();
                }
            }
        }
    }

    /** Applies a data-parallel step from the replicas' summed gradient buffer. */
    private double applySummed(TextModel model, float[] summed, AdamW optimizer, TrainingHook hook, double lr,
                               LoopPosition p) {
        Map<String, Parameter> trainable = model.trainableParameters();
        try (NDScope scope = new NDScope()) {
            double loss = ShardGradients.writeBack(trainable, summed);
            Map<String, NDArray> grads = new LinkedHashMap<>();
            trainable.forEach((name, param) -> grads.put(name, param.getArray().getGradient()));
            return finishStep(grads, loss, optimizer, hook, lr, p, p.step + 1, false);
        }
    }

    /**
     * Checks, clips and applies one step's gradients, by parameter name; runs inside the caller's scope.
     *
     * @param fresh whether the gradients are fresh arrays (else the parameters' own buffers, zeroed after use)
     */
    private double finishStep(Map<String, NDArray> grads, double loss, AdamW optimizer, TrainingHook hook,
                              double lr, LoopPosition p, int stepNumber, boolean fresh) {
        if (!Double.isFinite(loss)) {
            throw diverged(p, stepNumber, null, "the loss is " + loss);
        }
        // one engine call (per-tensor norms, then their norm, as clip_grad_norm_) instead of three operators
        // per parameter
        List<NDArray> all = new ArrayList<>(grads.values());
        double norm = all.isEmpty() ? 0 : TorchScriptOps.get().globalNorm(all.get(0), all).getFloat();
        if (!Double.isFinite(norm)) {
            String bad = firstNonFiniteGradient(grads);
            if (bad != null) {
                throw diverged(p, stepNumber, bad, "the gradient of '" + bad + "' holds NaN or infinite values");
            }
        }
        double scale = 1.0;
        if (config.maxGradNorm() > 0 && norm > config.maxGradNorm()) {
            scale = config.maxGradNorm() / (norm + 1e-6);
        }
        Map<String, NDArray> scaled = new LinkedHashMap<>();
        if (hook.needsGradients()) {
            for (Map.Entry<String, NDArray> e : grads.entrySet()) {
                scaled.put(e.getKey(), Scalars.mul(e.getValue(), (float) scale));
            }
        }
        optimizer.step(lr, scale, fresh ? grads : null);
        hook.afterStep(stepNumber, scaled, optimizer);
        return loss;
    }

    /** The first parameter (in training order) whose gradient holds a NaN or an infinity, or null. */
    static String firstNonFinite(Map<String, Parameter> parameters) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        try (NDScope scope = new NDScope()) {
            parameters.forEach((name, param) -> grads.put(name, param.getArray().getGradient()));
            return firstNonFiniteGradient(grads);
        }
    }

    /** The first name (in map order) whose gradient holds a NaN or an infinity, or null. */
    static String firstNonFiniteGradient(Map<String, NDArray> grads) {
        for (Map.Entry<String, NDArray> e : grads.entrySet()) {
            try (NDScope scope = new NDScope()) {
                NDArray g = e.getValue();
                if (g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean()) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    private TrainingDivergedException diverged(LoopPosition p, int step, String parameter, String what) {
        String keep = p.lastCheckpoint == null ? "no checkpoint was saved (set a checkpoint folder to keep one)"
                : "the last good checkpoint " + p.lastCheckpoint + " is kept";
        return new TrainingDivergedException(p.epoch, step, parameter, p.lastCheckpoint, "training diverged at epoch "
                + p.epoch + ", step " + step + ": " + what + "; the weights were not updated with it and " + keep
                + "; lower the learning rate (" + config.learningRate() + ") or check the data");
    }

    /** Mean task loss and metric on a split, in float32 whatever the training precision; NaNs for an empty split. */
    private double[] evaluate(TextModel model, List<LabelledText> examples) {
        if (examples.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN};
        }
        try (ComputePrecision.Scope precision = ComputePrecision.use(ComputePrecision.FLOAT32)) {
            return evaluateInCurrentPrecision(model, examples);
        }
    }

    private double[] evaluateInCurrentPrecision(TextModel model, List<LabelledText> examples) {
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
