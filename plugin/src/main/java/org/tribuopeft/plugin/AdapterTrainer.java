package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import org.tribuo.Dataset;
import org.tribuo.Output;
import org.tribuo.Trainer;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.train.DataParallel;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.provenance.RunProvenanceKeys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Paths;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Tribuo trainer that fine-tunes a pretrained transformer on the text in each example's metadata,
 * with the method (any registered in {@link org.tribuopeft.adapters.method.MethodRegistry}) given as a configuration component. The
 * head follows the output type: softmax for {@code Label}, sigmoid for {@code MultiLabel}, linear
 * for {@code Regressor}. Behaves as Tribuo's own trainers: OLCUT-configurable, a split RNG per call
 * with Tribuo's invocation-count semantics, and full provenance.
 * <p>
 * From code, build one with {@link #builder(AdapterMethod)}; from a configuration file, OLCUT sets the fields below
 * (the same names). A trainer is immutable apart from its invocation count: the {@code with*} methods return a new
 * trainer. On small data the defaults train at least {@value #DEFAULT_MIN_STEPS} optimizer steps (epochs are raised
 * to reach them) at the method's own learning rate; the values used are recorded in the model's training-run
 * provenance under {@code resolved-settings}.
 *
 * @param <T> the output type
 */
public final class AdapterTrainer<T extends Output<T>> implements Trainer<T> {
    /** Run-provenance key of the base model record ({@link RunProvenanceKeys#BASE_MODEL}). */
    public static final String BASE_MODEL_KEY = RunProvenanceKeys.BASE_MODEL;
    /** Run-provenance key of the tokenizer record ({@link RunProvenanceKeys#TOKENIZER}). */
    public static final String TOKENIZER_KEY = RunProvenanceKeys.TOKENIZER;
    /** Run-provenance key of the training-run record ({@link RunProvenanceKeys#TRAINING_RUN}). */
    public static final String TRAINING_RUN_KEY = RunProvenanceKeys.TRAINING_RUN;
    /** The default of {@code minSteps}: enough steps for 40 short examples to train, fewer than one epoch of big data. */
    public static final int DEFAULT_MIN_STEPS = 50;

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

    @Config(description = "How the frozen base's Linear weights are stored while the method trains: a "
            + "BaseQuantization component (nf4, fp4 or int8; QLoRA is nf4 with doubleQuant) or none for float32. "
            + "Methods that train or rewrite the base weights (full, relora, PiSSA) are refused on a quantized base.")
    private BaseQuantization quantization;

    @Config(description = "A PEFT adapter folder to continue training from (its method settings must equal the "
            + "method component's); empty starts from the method's initialisation.")
    private String initialAdapter = "";

    @Config(description = "The example metadata key holding the text.")
    private String textField = "text";

    @Config(description = "Tokens per text, special tokens included; longer texts are truncated.")
    private int maxLength = 128;

    @Config(description = "Examples per optimizer step.")
    private int batchSize = 16;

    @Config(description = "Maximum passes over the training data; raised on small data to reach minSteps.")
    private int epochs = 3;

    @Config(description = "The fewest optimizer steps a run takes: when epochs passes over the data give fewer, the "
            + "epochs are raised to the smallest count that gives at least this many (recorded in the training-run "
            + "provenance as resolved-settings.epochs); 0 trains exactly epochs passes.")
    private int minSteps = DEFAULT_MIN_STEPS;

    @Config(description = "Peak learning rate of AdamW; 0 uses the method's own (2e-3 for LoRA and DoRA, 1e-2 for "
            + "AdaLoRA, 5e-5 for full fine-tuning; recorded as resolved-settings.learning-rate).")
    private double learningRate = 0.0;

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

    @Config(description = "The number format of each training step's forward and backward pass: float32 (the "
            + "default) or bfloat16, an autocast-style mixed precision in which the encoder's Linear layers and "
            + "attention compute in bfloat16 while weights, gradients, AdamW, evaluation and prediction stay float32. "
            + "Fast on CPUs with AVX512-BF16 or AMX and on CUDA GPUs from Ampere on; slower than float32 elsewhere.")
    private String computePrecision = ComputePrecision.FLOAT32.configName();

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
    private transient TrainerSettings settings;
    private transient Backbone loadedBackbone;

    /** For OLCUT. */
    private AdapterTrainer() { }

    /** A trainer with exactly these settings, at invocation count 0. */
    AdapterTrainer(TrainerSettings s) {
        this.backbone = s.backbone();
        this.tokenizer = s.tokenizer();
        this.pooling = s.pooling();
        this.method = s.method();
        this.quantization = s.quantization();
        this.initialAdapter = s.initialAdapter();
        this.textField = s.textField();
        this.maxLength = s.maxLength();
        this.batchSize = s.batchSize();
        this.epochs = s.epochs();
        this.minSteps = s.minSteps();
        this.learningRate = s.learningRate();
        this.weightDecay = s.weightDecay();
        this.warmupRatio = s.warmupRatio();
        this.maxGradNorm = s.maxGradNorm();
        this.validationFraction = s.validationFraction();
        this.earlyStoppingPatience = s.earlyStoppingPatience();
        this.evalBatchSize = s.evalBatchSize();
        this.computePrecision = s.computePrecision();
        this.seed = s.seed();
        this.threads = s.threads();
        this.progressSeconds = s.progressSeconds();
        this.checkpointDir = s.checkpointDir();
        this.checkpointEverySteps = s.checkpointEverySteps();
        this.checkpointsKept = s.checkpointsKept();
        this.resumeFrom = s.resumeFrom();
        postConfig();
    }

    /**
     * A builder for a trainer with the given method; every other setting has a default that works on small and
     * large data alike.
     *
     * @param method the fine-tuning method, e.g. {@code new LoraConfig()}
     */
    public static AdapterTrainerBuilder builder(AdapterMethod method) {
        return new AdapterTrainerBuilder(method);
    }

    /** A builder holding this trainer's settings, to derive a changed trainer from. */
    public AdapterTrainerBuilder toBuilder() {
        return new AdapterTrainerBuilder(settings());
    }

    /**
     * A trainer with defaults for everything but the method and backbone.
     *
     * @param backbone a bundled model name, a Hugging Face folder or an .onnx file
     * @param method the fine-tuning method
     */
    public AdapterTrainer(String backbone, AdapterMethod method) {
        this(builder(method).backbone(backbone).settings());
    }

    /**
     * A trainer from positional settings.
     *
     * @param backbone a bundled model name, a Hugging Face folder or an .onnx file
     * @param method the fine-tuning method
     * @param maxLength tokens per text
     * @param batchSize examples per step
     * @param epochs passes over the data
     * @param learningRate peak learning rate
     * @param seed the seed of every random choice
     * @deprecated three ints in a row are easy to swap, and this leaves most settings out; use
     *     {@link #builder(AdapterMethod)}. Unlike the builder it keeps the epochs exact ({@code minSteps} 0).
     */
    @Deprecated(since = "0.2", forRemoval = true)
    public AdapterTrainer(String backbone, AdapterMethod method, int maxLength, int batchSize, int epochs,
                          double learningRate, long seed) {
        this(builder(method).backbone(backbone).maxLength(maxLength).batchSize(batchSize).epochs(epochs).minSteps(0)
                .learningRate(learningRate).seed(seed).settings());
    }

    /** A new trainer (at invocation count 0) that prints progress every {@code seconds} (0 = never). */
    public AdapterTrainer<T> withProgressSeconds(double seconds) {
        return toBuilder().progressSeconds(seconds).build();
    }

    /**
     * A new trainer (at invocation count 0) that holds out a fraction of the training data for per-epoch
     * validation and stops after {@code patience} epochs without improvement (0 = never).
     */
    public AdapterTrainer<T> withValidation(double fraction, int patience) {
        return toBuilder().validation(fraction, patience).build();
    }

    /**
     * A new trainer (at invocation count 0) that saves checkpoints during training (they do not change the trained
     * weights).
     *
     * @param directory the checkpoint folder, or empty for none
     * @param everySteps also save every this many steps; 0 saves only at epoch ends
     * @param kept how many of the newest checkpoints to keep
     */
    public AdapterTrainer<T> withCheckpoints(String directory, int everySteps, int kept) {
        return toBuilder().checkpoints(directory, everySteps, kept).build();
    }

    /**
     * A new trainer (at invocation count 0) that continues from the newest valid checkpoint in {@code directory}
     * (empty: afresh).
     */
    public AdapterTrainer<T> withResumeFrom(String directory) {
        return toBuilder().resumeFrom(directory).build();
    }

    @Override
    public synchronized void postConfig() {
        settings = settings();
        computePrecision = settings.computePrecision();
        // a stream restarted at the seed would repeat the first call's randomness while provenance records the
        // current count, so split to that count instead
        setInvocationCount(trainInvocationCounter);
    }

    /** The settings as the fields hold them, validated. */
    private TrainerSettings settings() {
        return new TrainerSettings(backbone, tokenizer, pooling, method, quantization, initialAdapter, textField, maxLength,
                batchSize, epochs, minSteps, learningRate, weightDecay, warmupRatio, maxGradNorm, validationFraction,
                earlyStoppingPatience, evalBatchSize, computePrecision, seed, threads, progressSeconds, checkpointDir,
                checkpointEverySteps, checkpointsKept, resumeFrom);
    }

    /** The number format of each training step's forward and backward pass (prediction is always float32). */
    public ComputePrecision computePrecision() {
        return settings.precision();
    }

    /** The method component. */
    public AdapterMethod method() {
        return method;
    }

    /** How the base's Linear weights are stored while training, or null for float32. */
    public BaseQuantization quantization() {
        return quantization;
    }

    /** The example metadata key this trainer reads texts from. */
    public String textField() {
        return textField;
    }

    /** The configured backbone: a bundled model name, or the path of a Hugging Face folder or an .onnx file. */
    public String backbone() {
        return backbone;
    }

    /**
     * The pretrained backbone, loaded on first use and kept (files are cached across trainers by content), with its
     * Linear weights held as the quantization setting says: a quantized base is quantized as it is read.
     */
    synchronized Backbone loadBackbone() {
        if (loadedBackbone == null) {
            try {
                loadedBackbone = BackboneSpec.open(backbone, tokenizer, settings.poolingOrNull(),
                        settings.quantization());
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
        for (String key : RunProvenanceKeys.RESERVED) {
            if (runProvenance.containsKey(key)) {
                throw new IllegalArgumentException("run provenance key '" + key + "' is reserved by tribuo-peft");
            }
        }
        RunStart start = startRun(invocationCount);
        return start.<T>run(loadBackbone()).train(examples, runProvenance, start.trainerProvenance());
    }

    /** What one training call takes from the trainer under its lock: settings, RNG split, provenance, invocation. */
    private record RunStart(TrainerSettings settings, SplittableRandom rng, TrainerProvenance trainerProvenance,
                            int invocation) {
        <T extends Output<T>> TrainingRun<T> run(Backbone backbone) {
            return new TrainingRun<T>(settings, backbone, invocation, rng);
        }
    }

    /**
     * Claims the next invocation as Tribuo's trainers do: inside {@code synchronized (this)}, applies
     * {@code invocationCount} unless it is {@link #INCREMENT_INVOCATION_COUNT}, splits the RNG, takes the provenance
     * and increments the counter.
     */
    private synchronized RunStart startRun(int invocationCount) {
        if (invocationCount != INCREMENT_INVOCATION_COUNT) {
            setInvocationCount(invocationCount);
        }
        RunStart start = new RunStart(settings, rng.split(), getProvenance(), trainInvocationCounter);
        trainInvocationCounter++;
        return start;
    }

    /**
     * Trains one replica of a data-parallel run (or every replica in turn, for a
     * {@link DataParallel#simulated} layout: the one-machine replay of a cluster run). {@code data} holds this
     * replica's shard (all shards in rank order when simulated) and must carry the run's full output domain, so
     * that every replica builds the same head; {@code batchSize} is the global batch and must be a multiple of the
     * workers. Every replica returns the same model (same bits), whose training-run provenance records the layout.
     * Checkpoints and resuming follow this trainer's settings; only rank 0 writes them.
     *
     * @param data this replica's examples
     * @param layout the run's layout and, for a replica, its exchange with the others
     * @param observer also receives this replica's progress (for example to stop it in a test); may be
     *     {@link ProgressListener#NONE}
     * @throws IllegalArgumentException when validationFraction is not 0, the global batch does not split evenly,
     *     or the data does not fit the layout
     */
    public AdapterModel<T> trainDataParallel(Dataset<T> data, DataParallel layout, ProgressListener observer) {
        RunStart start = startRun(INCREMENT_INVOCATION_COUNT);
        return start.<T>run(loadBackbone()).dataParallel(layout, observer)
                .train(data, Map.of(), start.trainerProvenance());
    }

    /**
     * Fails, naming the setting, when this trainer cannot train data-parallel on {@code workers} replicas: a
     * validation split (each replica holds only its shard) or a global batch that does not split evenly. Lets a
     * cluster driver refuse before it starts any task.
     *
     * @throws IllegalArgumentException naming the setting and its value
     */
    public void checkDataParallel(int workers) {
        TrainingRun.checkDataParallel(settings, workers);
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
        return new AdapterTrainerProvenance(this, loadBackbone(), TrainerSettings.blank(initialAdapter) ? ""
                : new InitialAdapter(Paths.get(initialAdapter), method).weightsSha256());
    }

    @Override
    public String toString() {
        return "AdapterTrainer(backbone=" + backbone + ", method=" + method + ", maxLength=" + maxLength + ", batchSize="
                + batchSize + ", epochs=" + epochs + ", minSteps=" + minSteps + ", learningRate="
                + (learningRate > 0 ? Double.toString(learningRate) : "method default") + ", computePrecision="
                + computePrecision + ", seed=" + seed + ")";
    }
}
