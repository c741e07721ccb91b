package org.tribuopeft.plugin;

import org.tribuo.Output;
import org.tribuo.Trainer;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.quant.BaseQuantization;

import java.nio.file.Path;

/**
 * Builds an {@link AdapterTrainer} from named settings; start with {@link AdapterTrainer#builder(AdapterMethod)}.
 * Every setting of the trainer's configuration file has a method here with the same name, and an unset one keeps
 * the default given on its method. {@link #build()} validates them all and names the first one at fault.
 * <pre>{@code
 * AdapterTrainer<Label> trainer = AdapterTrainer.builder(new LoraConfig())
 *         .backbone(BundledModel.ALL_MINILM_L6_V2).textField("body").build();
 * }</pre>
 */
public final class AdapterTrainerBuilder {
    private final AdapterMethod method;
    private String backbone = BundledModel.ALL_MINILM_L6_V2.modelName();
    private String tokenizer = "";
    private String pooling = "";
    private BaseQuantization quantization;
    private String initialAdapter = "";
    private String textField = "text";
    private int maxLength = 128;
    private int batchSize = 16;
    private int epochs = 3;
    private int minSteps = AdapterTrainer.DEFAULT_MIN_STEPS;
    private double learningRate = 0.0;
    private double weightDecay = 0.01;
    private double warmupRatio = 0.1;
    private double maxGradNorm = 1.0;
    private double validationFraction = 0.0;
    private int earlyStoppingPatience = 0;
    private int evalBatchSize = 64;
    private String computePrecision = ComputePrecision.FLOAT32.configName();
    private long seed = Trainer.DEFAULT_SEED;
    private int threads = 0;
    private double progressSeconds = 10.0;
    private String checkpointDir = "";
    private int checkpointEverySteps = 0;
    private int checkpointsKept = 3;
    private String resumeFrom = "";

    AdapterTrainerBuilder(AdapterMethod method) {
        this.method = method;
    }

    /** A builder holding exactly the given settings. */
    AdapterTrainerBuilder(TrainerSettings s) {
        this(s.method());
        quantization = s.quantization();
        backbone = s.backbone();
        tokenizer = s.tokenizer();
        pooling = s.pooling();
        initialAdapter = s.initialAdapter();
        textField = s.textField();
        maxLength = s.maxLength();
        batchSize = s.batchSize();
        epochs = s.epochs();
        minSteps = s.minSteps();
        learningRate = s.learningRate();
        weightDecay = s.weightDecay();
        warmupRatio = s.warmupRatio();
        maxGradNorm = s.maxGradNorm();
        validationFraction = s.validationFraction();
        earlyStoppingPatience = s.earlyStoppingPatience();
        evalBatchSize = s.evalBatchSize();
        computePrecision = s.computePrecision();
        seed = s.seed();
        threads = s.threads();
        progressSeconds = s.progressSeconds();
        checkpointDir = s.checkpointDir();
        checkpointEverySteps = s.checkpointEverySteps();
        checkpointsKept = s.checkpointsKept();
        resumeFrom = s.resumeFrom();
    }

    /**
     * The pretrained encoder by bundled name ({@code all-minilm-l6-v2}, the default, or {@code bge-small-en-v1.5}), or
     * the path of a model folder or {@code .onnx} file as a string, exactly as the configuration file's
     * {@code backbone} property takes it.
     */
    public AdapterTrainerBuilder backbone(String nameOrPath) {
        this.backbone = nameOrPath;
        return this;
    }

    /** The pretrained encoder as a bundled model (default {@link BundledModel#ALL_MINILM_L6_V2}). */
    public AdapterTrainerBuilder backbone(BundledModel model) {
        this.backbone = model.modelName();
        return this;
    }

    /**
     * The pretrained encoder as a Hugging Face model folder (config.json, model.safetensors, tokenizer.json) or an
     * {@code .onnx} file (with tokenizer.json beside it unless {@link #tokenizer(Path)} names another).
     */
    public AdapterTrainerBuilder backbone(Path folderOrOnnxFile) {
        this.backbone = folderOrOnnxFile.toString();
        return this;
    }

    /** The tokenizer.json of an {@code .onnx} backbone (default: tokenizer.json beside the .onnx file). */
    public AdapterTrainerBuilder tokenizer(Path tokenizerJson) {
        this.tokenizer = tokenizerJson.toString();
        return this;
    }

    /** How token vectors become a sentence vector (default: the backbone's own, MEAN for MiniLM, CLS for BGE). */
    public AdapterTrainerBuilder pooling(Pooling newPooling) {
        this.pooling = newPooling.name();
        return this;
    }

    /**
     * A PEFT adapter folder to continue training from (default: none, the method's initialisation); its method
     * settings must equal the method's.
     */
    public AdapterTrainerBuilder initialAdapter(Path adapterFolder) {
        this.initialAdapter = adapterFolder.toString();
        return this;
    }

    /** The example metadata key holding the text (default {@code text}). */
    public AdapterTrainerBuilder textField(String metadataKey) {
        this.textField = metadataKey;
        return this;
    }

    /** Tokens per text, special tokens included; longer texts are truncated (default 128, at least 1). */
    public AdapterTrainerBuilder maxLength(int tokens) {
        this.maxLength = tokens;
        return this;
    }

    /** Examples per optimizer step (default 16, at least 1). */
    public AdapterTrainerBuilder batchSize(int examples) {
        this.batchSize = examples;
        return this;
    }

    /** Passes over the training data (default 3, at least 1); raised on small data to reach {@link #minSteps}. */
    public AdapterTrainerBuilder epochs(int passes) {
        this.epochs = passes;
        return this;
    }

    /**
     * The fewest optimizer steps a run takes (default {@value AdapterTrainer#DEFAULT_MIN_STEPS}, 0 or more): when
     * {@code epochs} passes over the data give fewer, the epochs are raised to the smallest count that gives at least
     * this many. 0 trains exactly {@code epochs} passes.
     */
    public AdapterTrainerBuilder minSteps(int steps) {
        this.minSteps = steps;
        return this;
    }

    /**
     * Peak AdamW learning rate, positive (default 0: the method's own, {@code 2e-3} for LoRA, DoRA and AdaLoRA,
     * {@code 5e-5} for full fine-tuning).
     */
    public AdapterTrainerBuilder learningRate(double rate) {
        this.learningRate = rate;
        return this;
    }

    /** AdamW decoupled weight decay, not applied to biases and LayerNorm (default 0.01, at least 0). */
    public AdapterTrainerBuilder weightDecay(double decay) {
        this.weightDecay = decay;
        return this;
    }

    /** Fraction of all steps spent in linear warm-up (default 0.1, in [0, 1)). */
    public AdapterTrainerBuilder warmupRatio(double fraction) {
        this.warmupRatio = fraction;
        return this;
    }

    /** Global gradient-norm clip (default 1.0; 0 disables clipping). */
    public AdapterTrainerBuilder maxGradNorm(double norm) {
        this.maxGradNorm = norm;
        return this;
    }

    /**
     * Holds out a fraction of the training data for per-epoch validation (default 0, none; in [0, 1)) and stops
     * after {@code patience} epochs without improvement (default 0, never; needs a fraction above 0).
     */
    public AdapterTrainerBuilder validation(double fraction, int patience) {
        this.validationFraction = fraction;
        this.earlyStoppingPatience = patience;
        return this;
    }

    /** Examples per batch when evaluating and predicting (default 64, at least 1). */
    public AdapterTrainerBuilder evalBatchSize(int examples) {
        this.evalBatchSize = examples;
        return this;
    }

    /**
     * The number format of each training step's forward and backward pass (default {@link ComputePrecision#FLOAT32}).
     * {@link ComputePrecision#BFLOAT16} is autocast-style mixed precision: the encoder's Linear layers and attention
     * compute in bfloat16, while weights, gradients, AdamW, evaluation and prediction stay float32. It pays off on
     * CPUs with AVX512-BF16 or AMX and on CUDA GPUs from Ampere on.
     */
    public AdapterTrainerBuilder computePrecision(ComputePrecision precision) {
        this.computePrecision = precision.configName();
        return this;
    }

    /** Seed of every random choice: initialisation, validation split, shuffling, dropout (default Tribuo's 12345). */
    public AdapterTrainerBuilder seed(long newSeed) {
        this.seed = newSeed;
        return this;
    }

    /** PyTorch CPU threads (default 0: PyTorch chooses); fixed once per JVM. */
    public AdapterTrainerBuilder threads(int count) {
        this.threads = count;
        return this;
    }

    /** Seconds between progress lines on standard error (default 10; 0 prints nothing). */
    public AdapterTrainerBuilder progressSeconds(double seconds) {
        this.progressSeconds = seconds;
        return this;
    }

    /**
     * Saves checkpoints in {@code folder} at every epoch end and every {@code everySteps} steps (0: epoch ends
     * only), keeping the newest {@code kept} (at least 1). Default: no checkpoints. They do not change the result
     * and are not recorded in provenance.
     */
    public AdapterTrainerBuilder checkpoints(Path folder, int everySteps, int kept) {
        this.checkpointDir = folder.toString();
        this.checkpointEverySteps = everySteps;
        this.checkpointsKept = kept;
        return this;
    }

    /**
     * Continues from the newest valid checkpoint of an interrupted run's checkpoint folder (default: start afresh);
     * the data and every other setting must be the interrupted run's.
     */
    public AdapterTrainerBuilder resumeFrom(Path checkpointFolder) {
        this.resumeFrom = checkpointFolder.toString();
        return this;
    }

    /**
     * Stores the frozen base's Linear weights quantized while the method trains (QLoRA: {@link BaseQuantization#qlora()},
     * NF4 with double quantization); null, the default, keeps them float32.
     */
    public AdapterTrainerBuilder quantization(BaseQuantization settings) {
        this.quantization = settings;
        return this;
    }

    /** Checkpoint settings as the configuration file holds them (an empty folder: none). */
    AdapterTrainerBuilder checkpoints(String folder, int everySteps, int kept) {
        this.checkpointDir = folder;
        this.checkpointEverySteps = everySteps;
        this.checkpointsKept = kept;
        return this;
    }

    /** The resume folder as the configuration file holds it (empty: start afresh). */
    AdapterTrainerBuilder resumeFrom(String checkpointFolder) {
        this.resumeFrom = checkpointFolder;
        return this;
    }

    /** The settings as they stand, validated. */
    TrainerSettings settings() {
        return new TrainerSettings(backbone, tokenizer, pooling, method, quantization, initialAdapter, textField, maxLength,
                batchSize, epochs, minSteps, learningRate, weightDecay, warmupRatio, maxGradNorm, validationFraction,
                earlyStoppingPatience, evalBatchSize, computePrecision, seed, threads, progressSeconds, checkpointDir,
                checkpointEverySteps, checkpointsKept, resumeFrom);
    }

    /**
     * The trainer, at invocation count 0.
     *
     * @param <T> the output type the trainer will be given
     * @throws com.oracle.labs.mlrg.olcut.config.PropertyException naming the first setting out of range
     */
    public <T extends Output<T>> AdapterTrainer<T> build() {
        return new AdapterTrainer<>(settings());
    }
}
