package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuo.Trainer;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.train.ConsoleProgress;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;
import org.tribuopeft.adapters.train.TrainingReport;
import org.tribuopeft.plugin.outputs.TaskOutputs;
import org.tribuopeft.provenance.BaseModelProvenance;
import org.tribuopeft.provenance.EngineProvenance;
import org.tribuopeft.provenance.TokenizerProvenance;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Tribuo trainer that fine-tunes a pretrained transformer on the text in each example's metadata,
 * with the method (any registered in {@link MethodRegistry}) given as a configuration component. The
 * head follows the output type: softmax for {@code Label}, sigmoid for {@code MultiLabel}, linear
 * for {@code Regressor}. Behaves as Tribuo's own trainers: OLCUT-configurable, a split RNG per call
 * with Tribuo's invocation-count semantics, and full provenance.
 *
 * @param <T> the output type
 */
public final class AdapterTrainer<T extends Output<T>> implements Trainer<T> {
    /** Run-provenance key of the base model record. */
    public static final String BASE_MODEL_KEY = "tribuo-peft.base-model";
    /** Run-provenance key of the tokenizer record. */
    public static final String TOKENIZER_KEY = "tribuo-peft.tokenizer";
    /** Run-provenance key of the training-run record. */
    public static final String TRAINING_RUN_KEY = "tribuo-peft.training-run";

    @Config(description = "The pretrained encoder: a bundled model name (all-minilm-l6-v2, bge-small-en-v1.5), a "
            + "Hugging Face model folder (config.json, model.safetensors, tokenizer.json), or an .onnx file.")
    private String backbone = "all-minilm-l6-v2";

    @Config(description = "tokenizer.json for an .onnx backbone; empty uses tokenizer.json beside the .onnx file.")
    private String tokenizer = "";

    @Config(description = "How token vectors become a sentence vector: CLS or MEAN; empty uses the backbone's own "
            + "(MEAN for MiniLM, CLS for BGE, MEAN for files).")
    private String pooling = "";

    @Config(mandatory = true, description = "The fine-tuning method: a component of one of the registered method "
            + "classes (each documented in this reference; the CLI help lists them).")
    private AdapterMethod method;

    @Config(description = "A PEFT adapter folder to continue training from (its method settings must equal the "
            + "method component's); empty starts from the method's initialisation.")
    private String initialAdapter = "";

    @Config(description = "The example metadata key holding the text.")
    private String textField = "text";

    @Config(description = "Tokens per text, special tokens included; longer texts are truncated.")
    private int maxLength = 128;

    @Config(description = "Examples per optimizer step.")
    private int batchSize = 16;

    @Config(description = "Maximum passes over the training data.")
    private int epochs = 3;

    @Config(description = "Peak learning rate of AdamW.")
    private double learningRate = 5e-4;

    @Config(description = "AdamW decoupled weight decay (not applied to biases and LayerNorm).")
    private double weightDecay = 0.01;

    @Config(description = "Fraction of all steps spent in linear warm-up.")
    private double warmupRatio = 0.1;

    @Config(description = "Global gradient-norm clip; 0 disables clipping.")
    private double maxGradNorm = 1.0;

    @Config(description = "Fraction of the training data held out for per-epoch validation; 0 disables it.")
    private double validationFraction = 0.0;

    @Config(description = "Epochs without validation improvement before stopping (needs validationFraction > 0); "
            + "0 disables early stopping.")
    private int earlyStoppingPatience = 0;

    @Config(description = "Examples per batch when evaluating and predicting.")
    private int evalBatchSize = 64;

    @Config(description = "Seed of every random choice: adapter and head initialisation, validation split, "
            + "shuffling and dropout.")
    private long seed = Trainer.DEFAULT_SEED;

    @Config(description = "PyTorch CPU threads; 0 lets PyTorch choose. Fixed once per JVM.")
    private int threads = 0;

    @Config(description = "Seconds between progress lines on standard error; 0 prints nothing.")
    private double progressSeconds = 10.0;

    // The checkpoint settings are redacted from provenance: they never change the trained weights.
    @Config(redact = true, description = "Folder for training checkpoints (checkpoint-<step>/ folders, saved at every "
            + "epoch end and every checkpointEverySteps steps); empty saves none. The first train call uses the folder "
            + "itself, the n-th later call (cross-validation) its invocation-<n> subfolder. Not recorded in provenance: "
            + "checkpoints do not change the result.")
    private String checkpointDir = "";

    @Config(redact = true, description = "Also save a checkpoint every this many optimizer steps (needs "
            + "checkpointDir); 0 saves only at epoch ends.")
    private int checkpointEverySteps = 0;

    @Config(redact = true, description = "How many of the newest checkpoints to keep; older checkpoint-<step> "
            + "folders are deleted (nothing else in checkpointDir is touched).")
    private int checkpointsKept = 3;

    @Config(redact = true, description = "A checkpointDir of an interrupted run to continue from its newest valid "
            + "checkpoint (a corrupt newest one is skipped with a warning); the data and every setting must be the "
            + "interrupted run's. Empty starts afresh.")
    private String resumeFrom = "";

    private SplittableRandom rng;
    private int trainInvocationCounter;
    private transient Backbone loadedBackbone;

    /** For OLCUT. */
    private AdapterTrainer() { }

    /**
     * A trainer with defaults for everything but the method and backbone.
     *
     * @param backbone a bundled model name, a Hugging Face folder or an .onnx file
     * @param method the fine-tuning method
     */
    public AdapterTrainer(String backbone, AdapterMethod method) {
        this.backbone = backbone;
        this.method = method;
        postConfig();
    }

    /**
     * A fully specified trainer.
     *
     * @param backbone a bundled model name, a Hugging Face folder or an .onnx file
     * @param method the fine-tuning method
     * @param maxLength tokens per text
     * @param batchSize examples per step
     * @param epochs passes over the data
     * @param learningRate peak learning rate
     * @param seed the seed of every random choice
     */
    public AdapterTrainer(String backbone, AdapterMethod method, int maxLength, int batchSize, int epochs,
                          double learningRate, long seed) {
        this.backbone = backbone;
        this.method = method;
        this.maxLength = maxLength;
        this.batchSize = batchSize;
        this.epochs = epochs;
        this.learningRate = learningRate;
        this.seed = seed;
        postConfig();
    }

    /** Sets how often progress is printed (0 = never); returns this. */
    public AdapterTrainer<T> withProgressSeconds(double seconds) {
        this.progressSeconds = seconds;
        return this;
    }

    /** Holds out a fraction of the training data for per-epoch validation and early stopping; returns this. */
    public AdapterTrainer<T> withValidation(double fraction, int patience) {
        this.validationFraction = fraction;
        this.earlyStoppingPatience = patience;
        postConfig();
        return this;
    }

    /**
     * Saves checkpoints during training (they do not change the trained weights); returns this.
     *
     * @param directory the checkpoint folder, or empty for none
     * @param everySteps also save every this many steps; 0 saves only at epoch ends
     * @param kept how many of the newest checkpoints to keep
     */
    public AdapterTrainer<T> withCheckpoints(String directory, int everySteps, int kept) {
        this.checkpointDir = directory;
        this.checkpointEverySteps = everySteps;
        this.checkpointsKept = kept;
        postConfig();
        return this;
    }

    /** Continues the next training from the newest valid checkpoint in {@code directory} (empty: afresh); returns this. */
    public AdapterTrainer<T> withResumeFrom(String directory) {
        this.resumeFrom = directory;
        postConfig();
        return this;
    }

    @Override
    public synchronized void postConfig() {
        if (method == null) {
            throw new PropertyException("", "method", "method is mandatory: name a component of one of "
                    + MethodRegistry.all().stream().map(d -> d.configClass().getSimpleName()).toList());
        }
        requirePositive("maxLength", maxLength);
        requirePositive("batchSize", batchSize);
        requirePositive("epochs", epochs);
        requirePositive("evalBatchSize", evalBatchSize);
        if (!(learningRate > 0)) {
            throw new PropertyException("", "learningRate", "learningRate must be positive, found " + learningRate);
        }
        if (!(weightDecay >= 0)) {
            throw new PropertyException("", "weightDecay", "weightDecay must be >= 0, found " + weightDecay);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new PropertyException("", "warmupRatio", "warmupRatio must be in [0, 1), found " + warmupRatio);
        }
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new PropertyException("", "validationFraction", "validationFraction must be in [0, 1), found "
                    + validationFraction);
        }
        if (earlyStoppingPatience < 0) {
            throw new PropertyException("", "earlyStoppingPatience", "must be >= 0, found " + earlyStoppingPatience);
        }
        if (earlyStoppingPatience > 0 && validationFraction == 0) {
            throw new PropertyException("", "earlyStoppingPatience", "early stopping needs validationFraction > 0");
        }
        if (threads < 0) {
            throw new PropertyException("", "threads", "threads must be >= 0, found " + threads);
        }
        if (textField == null || textField.isBlank()) {
            throw new PropertyException("", "textField", "textField must name a metadata key");
        }
        poolingSetting();
        checkCheckpointSettings();
        // setters re-run this after training; a stream restarted at the seed would repeat the first call's
        // randomness while provenance records the current count, so re-split to that count instead
        setInvocationCount(trainInvocationCounter);
    }

    private void checkCheckpointSettings() {
        if (checkpointEverySteps < 0) {
            throw new PropertyException("", "checkpointEverySteps", "checkpointEverySteps must be >= 0 (0 = only at "
                    + "epoch ends), found " + checkpointEverySteps);
        }
        if (checkpointsKept < 1) {
            throw new PropertyException("", "checkpointsKept", "checkpointsKept must be at least 1, found "
                    + checkpointsKept);
        }
        if (checkpointEverySteps > 0 && blank(checkpointDir)) {
            throw new PropertyException("", "checkpointEverySteps", "checkpointEverySteps is " + checkpointEverySteps
                    + " but checkpointDir is empty; set checkpointDir to the folder for the checkpoints");
        }
        if (!blank(checkpointDir) && java.nio.file.Files.exists(java.nio.file.Paths.get(checkpointDir))
                && !java.nio.file.Files.isDirectory(java.nio.file.Paths.get(checkpointDir))) {
            throw new PropertyException("", "checkpointDir", "checkpointDir " + checkpointDir + " is a file, not a folder");
        }
        if (!blank(resumeFrom) && !java.nio.file.Files.isDirectory(java.nio.file.Paths.get(resumeFrom))) {
            throw new PropertyException("", "resumeFrom", "resumeFrom " + resumeFrom + " is not a folder; give the "
                    + "checkpointDir of the interrupted run");
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** The checkpoint folder of one train call: the folder itself first, then invocation-n subfolders. */
    private static java.nio.file.Path perInvocation(String dir, int invocation) {
        java.nio.file.Path base = java.nio.file.Paths.get(dir);
        return invocation == 0 ? base : base.resolve("invocation-" + invocation);
    }

    private FineTuner fineTuner(TrainingConfig config, ProgressListener listener, int invocation) {
        FineTuner tuner = new FineTuner(config, listener);
        if (!blank(checkpointDir)) {
            tuner = tuner.withCheckpoints(org.tribuopeft.adapters.checkpoint.CheckpointSettings.in(
                    perInvocation(checkpointDir, invocation), checkpointEverySteps, checkpointsKept));
        }
        if (!blank(resumeFrom)) {
            tuner = tuner.resumingFrom(perInvocation(resumeFrom, invocation));
        }
        return tuner;
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new PropertyException("", field, field + " must be positive, found " + value);
        }
    }

    private Pooling poolingSetting() {
        if (pooling == null || pooling.isBlank()) {
            return null;
        }
        try {
            return Pooling.valueOf(pooling.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "pooling", "pooling must be CLS or MEAN (or empty), found '" + pooling + "'");
        }
    }

    /** The method component. */
    public AdapterMethod method() {
        return method;
    }

    /** The example metadata key this trainer reads texts from. */
    public String textField() {
        return textField;
    }

    /** The pretrained backbone this trainer uses, loaded once and kept. */
    public synchronized Backbone backbone() {
        if (loadedBackbone == null) {
            try {
                loadedBackbone = BackboneSpec.open(backbone, tokenizer, poolingSetting());
            } catch (IOException e) {
                throw new UncheckedIOException("backbone '" + backbone + "': " + e.getMessage(), e);
            }
        }
        return loadedBackbone;
    }

    @Override
    public AdapterModel<T> train(Dataset<T> examples) {
        return train(examples, Map.of(), INCREMENT_INVOCATION_COUNT);
    }

    @Override
    public AdapterModel<T> train(Dataset<T> examples, Map<String, Provenance> runProvenance) {
        return train(examples, runProvenance, INCREMENT_INVOCATION_COUNT);
    }

    @Override
    public AdapterModel<T> train(Dataset<T> examples, Map<String, Provenance> runProvenance, int invocationCount) {
        if (examples.size() == 0) {
            throw new IllegalArgumentException("cannot train on an empty dataset");
        }
        for (String key : List.of(BASE_MODEL_KEY, TOKENIZER_KEY, TRAINING_RUN_KEY)) {
            if (runProvenance.containsKey(key)) {
                throw new IllegalArgumentException("run provenance key '" + key + "' is reserved by tribuo-peft");
            }
        }
        SplittableRandom localRng;
        TrainerProvenance trainerProvenance;
        int invocation;
        synchronized (this) {
            if (invocationCount != INCREMENT_INVOCATION_COUNT) {
                setInvocationCount(invocationCount);
            }
            localRng = rng.split();
            trainerProvenance = getProvenance();
            invocation = trainInvocationCounter;
            trainInvocationCounter++;
        }
        int threadSetting = TorchRuntime.configure(threads);
        ImmutableOutputInfo<T> outputInfo = examples.getOutputIDInfo();
        TaskOutputs<T> outputs = TaskOutputs.forDomain(outputInfo);
        List<LabelledText> all = new ArrayList<>(examples.size());
        int index = 0;
        for (Example<T> e : examples) {
            all.add(new LabelledText(TextExamples.text(e, textField, index++), outputs.target(e.getOutput(), outputInfo)));
        }
        long splitSeed = localRng.nextLong();
        long modelSeed = localRng.nextLong();
        long trainingSeed = localRng.nextLong();
        List<LabelledText> train = all;
        List<LabelledText> validation = List.of();
        if (validationFraction > 0) {
            int[] order = FineTuner.permutation(all.size(), new SplittableRandom(splitSeed));
            int held = Math.max(1, (int) Math.round(all.size() * validationFraction));
            if (held >= all.size()) {
                throw new IllegalArgumentException("validationFraction " + validationFraction + " leaves no training data "
                        + "from " + all.size() + " examples");
            }
            train = new ArrayList<>();
            List<LabelledText> val = new ArrayList<>();
            for (int i = 0; i < order.length; i++) {
                (i < held ? val : train).add(all.get(order[i]));
            }
            validation = val;
        }
        Backbone base = backbone();
        TrainingConfig config = new TrainingConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm,
                earlyStoppingPatience, evalBatchSize, trainingSeed);
        ProgressListener listener = progressSeconds > 0
                ? new ConsoleProgress(System.err, progressSeconds, "[" + method.descriptor().name() + "]")
                : ProgressListener.NONE;
        TextModel model;
        try {
            model = TextModel.create(base, method, outputs.task(), outputs.width(outputInfo), maxLength,
                    new SplittableRandom(modelSeed));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!initialAdapter.isBlank()) {
            try {
                startFrom(model, base, outputInfo);
            } catch (IOException | RuntimeException e) {
                model.close();
                throw new IllegalArgumentException("initialAdapter " + initialAdapter + ": " + e.getMessage(), e);
            }
        }
        TrainingReport report;
        try {
            report = fineTuner(config, listener, invocation).fit(model, train, validation);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        Map<String, Provenance> run = new HashMap<>(runProvenance);
        run.put(BASE_MODEL_KEY, BaseModelProvenance.of(base));
        run.put(TOKENIZER_KEY, TokenizerProvenance.of(base, maxLength));
        run.put(TRAINING_RUN_KEY, TrainingRunProvenance.of(report, modelSeed, trainingSeed, invocation,
                model.trainableParameterCount(), model.totalParameterCount(), model.rankMasks(), train.size(),
                validation.size(), EngineProvenance.current(threadSetting, model.manager().getDevice().toString())));
        ModelProvenance provenance = new ModelProvenance(AdapterModel.class.getName(), OffsetDateTime.now(),
                examples.getProvenance(), trainerProvenance, run);
        BackboneReference reference = BackboneReference.of(base, BackboneSpec.tokenizerLocation(backbone, tokenizer));
        return new AdapterModel<>("tribuo-peft-" + method.descriptor().name(), provenance, examples.getFeatureIDMap(),
                outputInfo, reference, method, maxLength, textField, evalBatchSize, model.snapshot(), model);
    }

    /**
     * Loads the initial adapter into a freshly built model: every encoder tensor, and the head when the
     * folder's outputs are the dataset's outputs in the same order. The adapter's settings must be the
     * configured method's, so that what trains is what the configuration says.
     */
    private void startFrom(TextModel model, Backbone base, ImmutableOutputInfo<T> outputInfo) throws IOException {
        java.nio.file.Path dir = java.nio.file.Paths.get(initialAdapter);
        org.tribuopeft.adapters.peft.PeftAdapter adapter =
                org.tribuopeft.adapters.peft.PeftAdapterReader.read(dir, base.config());
        var wanted = method.getProvenance();
        var found = adapter.method().getProvenance();
        if (!wanted.getClassName().equals(found.getClassName())
                || !wanted.getConfiguredParameters().equals(found.getConfiguredParameters())) {
            throw new IllegalArgumentException("its settings " + adapter.method() + " differ from the method component "
                    + method + "; configure the method to match the adapter");
        }
        TextModel.Snapshot current = model.snapshot();
        java.util.Map<String, org.tribuopeft.adapters.tensor.HostTensor> values = new java.util.LinkedHashMap<>(
                current.values());
        for (String name : current.values().keySet()) {
            if (!name.startsWith(org.tribuopeft.adapters.train.TaskHead.MODULE_NAME + ".")
                    && adapter.tensors().containsKey(name)) {
                values.put(name, adapter.tensors().get(name));
            }
        }
        java.nio.file.Path sidecar = dir.resolve(AdapterExports.SIDECAR);
        if (adapter.tensors().containsKey("classifier.weight") && java.nio.file.Files.exists(sidecar)) {
            if (AdapterExports.outputs(AdapterExports.readSidecar(dir)).equals(HeadOutputs.names(outputInfo))) {
                values.put("classifier.weight", adapter.tensors().get("classifier.weight"));
                values.put("classifier.bias", adapter.tensors().get("classifier.bias"));
            }
        }
        java.util.Map<String, boolean[]> masks = new java.util.LinkedHashMap<>(current.rankMasks());
        masks.putAll(adapter.rankMasks());
        model.restore(new TextModel.Snapshot(values, masks));
    }

    @Override
    public synchronized int getInvocationCount() {
        return trainInvocationCounter;
    }

    @Override
    public synchronized void setInvocationCount(int invocationCount) {
        if (invocationCount < 0) {
            throw new IllegalArgumentException("invocationCount must be >= 0, found " + invocationCount);
        }
        this.rng = new SplittableRandom(seed);
        for (int i = 0; i < invocationCount; i++) {
            rng.split();
        }
        this.trainInvocationCounter = invocationCount;
    }

    @Override
    public synchronized TrainerProvenance getProvenance() {
        return new AdapterTrainerProvenance(this, backbone(), initialAdapterSha256());
    }

    /** SHA-256 of the initial adapter's weights file, or empty when there is none. */
    private String initialAdapterSha256() {
        if (initialAdapter == null || initialAdapter.isBlank()) {
            return "";
        }
        java.nio.file.Path w = java.nio.file.Paths.get(initialAdapter)
                .resolve(org.tribuopeft.adapters.peft.PeftAdapterWriter.WEIGHTS);
        try {
            return org.tribuopeft.adapters.io.Sha256.ofFile(w);
        } catch (IOException e) {
            throw new UncheckedIOException("initialAdapter: cannot read " + w + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "AdapterTrainer(backbone=" + backbone + ", method=" + method + ", maxLength=" + maxLength + ", batchSize="
                + batchSize + ", epochs=" + epochs + ", learningRate=" + learningRate + ", seed=" + seed + ")";
    }
}
