package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.backbone.BertConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * Every setting of an {@link AdapterTrainer}, immutable and validated in one place. The trainer's OLCUT fields,
 * its {@link AdapterTrainerBuilder} and one {@link TrainingRun} all go through this record, so a setting is checked
 * the same way whether it came from code or from a configuration file. Field meanings, defaults and ranges are on
 * the builder's methods.
 */
record TrainerSettings(String backbone, String tokenizer, String pooling, AdapterMethod method,
                       BaseQuantization quantization, String initialAdapter,
                       String textField, int maxLength, int batchSize, int epochs, int minSteps, double learningRate,
                       double weightDecay, double warmupRatio, double maxGradNorm, double validationFraction,
                       int earlyStoppingPatience, int evalBatchSize, String computePrecision, long seed, int threads,
                       double progressSeconds,
                       String checkpointDir, int checkpointEverySteps, int checkpointsKept, String resumeFrom) {

    /** Checks every setting, failing with a {@link PropertyException} that names the field and the value. */
    TrainerSettings {
        if (method == null) {
            throw new PropertyException("", "method", "method is mandatory: name a component of one of "
                    + MethodRegistry.all().stream().map(d -> d.configClass().getSimpleName()).toList());
        }
        checkBackbone(backbone);
        checkQuantization(quantization, method, backbone);
        requirePositive("maxLength", maxLength);
        requirePositive("batchSize", batchSize);
        requirePositive("epochs", epochs);
        requirePositive("evalBatchSize", evalBatchSize);
        if (minSteps < 0) {
            throw new PropertyException("", "minSteps", "minSteps must be >= 0 (0 = train exactly the configured "
                    + "epochs), found " + minSteps);
        }
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new PropertyException("", "learningRate", "learningRate must be positive, or 0 for the method's "
                    + "default, found " + learningRate);
        }
        if (!(weightDecay >= 0)) {
            throw new PropertyException("", "weightDecay", "weightDecay must be >= 0, found " + weightDecay);
        }
        if (!(warmupRatio >= 0 && warmupRatio < 1)) {
            throw new PropertyException("", "warmupRatio", "warmupRatio must be in [0, 1), found " + warmupRatio);
        }
        if (!(maxGradNorm >= 0)) {
            throw new PropertyException("", "maxGradNorm", "maxGradNorm must be >= 0 (0 = no clipping), found "
                    + maxGradNorm);
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
        if (!(progressSeconds >= 0)) {
            throw new PropertyException("", "progressSeconds", "progressSeconds must be >= 0 (0 = silent), found "
                    + progressSeconds);
        }
        if (blank(textField)) {
            throw new PropertyException("", "textField", "textField must name a metadata key");
        }
        if (!blank(initialAdapter) && !Files.isDirectory(Paths.get(initialAdapter))) {
            throw new PropertyException("", "initialAdapter", "initialAdapter " + initialAdapter + " is not a folder; "
                    + "give a PEFT adapter folder (adapter_config.json, adapter_model.safetensors)");
        }
        if (!blank(tokenizer) && !Files.isRegularFile(Paths.get(tokenizer))) {
            throw new PropertyException("", "tokenizer", "tokenizer " + tokenizer + " is not a file; give the "
                    + "tokenizer.json of the .onnx backbone");
        }
        poolingOf(pooling);
        // one spelling in provenance whatever the case the configuration used
        computePrecision = precisionOf(computePrecision).configName();
        if (precisionOf(computePrecision) != ComputePrecision.FLOAT32 && quantization != null) {
            throw new PropertyException("", "computePrecision", "computePrecision " + computePrecision + " cannot "
                    + "apply to a base quantized as " + quantization + ": its Linear layers compute in the "
                    + "quantization's computeType, and float32 is the only one supported; set computePrecision to "
                    + "float32 or remove the quantization");
        }
        checkCheckpoints(checkpointDir, checkpointEverySteps, checkpointsKept, resumeFrom);
    }

    /**
     * A quantized base needs a method that leaves its Linear weights alone (its descriptor says), and a block size
     * that divides the Linear widths of a bundled backbone or a model folder's config.json (an .onnx file is checked
     * when it loads).
     */
    private static void checkQuantization(BaseQuantization quantization, AdapterMethod method, String backbone) {
        if (quantization == null) {
            return;
        }
        MethodRegistry.of(method).quantizedBaseConflict(method).ifPresent(why -> {
            throw new PropertyException("", "quantization", "method " + method + " cannot train on a base quantized "
                    + "as " + quantization + ": " + why);
        });
        try {
            BertConfig config = cheapConfig(backbone, quantization);
            if (config != null) {
                quantization.checkFits(backbone, config.hiddenSize(), config.intermediateSize());
            }
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "quantization", e.getMessage());
        }
    }

    /**
     * The architecture when it is at hand: a bundled model's (loaded once per JVM in the storage training will use,
     * so a quantized base is never parsed into float32), or a folder's config.json.
     *
     * @throws IllegalArgumentException when the block size does not divide a bundled model's Linear widths
     */
    private static BertConfig cheapConfig(String backbone, BaseQuantization quantization) {
        if (blank(backbone)) {
            return null;
        }
        var bundled = BundledModel.byName(backbone.trim());
        if (bundled.isPresent()) {
            // loaded once per JVM and cached, and needed by the first training anyway
            try {
                return bundled.get().isAvailable() ? org.tribuopeft.adapters.backbone.Backbone.bundled(bundled.get(),
                        quantization).config() : null;
            } catch (java.io.IOException e) {
                return null;
            }
        }
        Path json = Paths.get(backbone).resolve(org.tribuopeft.adapters.backbone.Backbone.CONFIG_JSON);
        if (Files.isRegularFile(json)) {
            try {
                return BertConfig.read(json);
            } catch (java.io.IOException e) {
                return null;
            }
        }
        return null;
    }

    /** A bundled name, an existing folder or an existing .onnx file; loading it waits for the first training. */
    private static void checkBackbone(String backbone) {
        if (blank(backbone)) {
            throw new PropertyException("", "backbone", "backbone is empty; name a bundled model "
                    + BundledModel.names() + ", a Hugging Face model folder or an .onnx file");
        }
        if (BundledModel.byName(backbone.trim()).isPresent()) {
            return;
        }
        Path path = Paths.get(backbone);
        if (!Files.exists(path)) {
            throw new PropertyException("", "backbone", "backbone '" + backbone + "' is not a bundled model "
                    + BundledModel.names() + " and does not exist as a file or folder");
        }
        if (!Files.isDirectory(path) && !path.toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            throw new PropertyException("", "backbone", "backbone '" + backbone + "' is neither a Hugging Face model "
                    + "folder nor an .onnx file");
        }
    }

    private static void checkCheckpoints(String checkpointDir, int everySteps, int kept, String resumeFrom) {
        if (everySteps < 0) {
            throw new PropertyException("", "checkpointEverySteps", "checkpointEverySteps must be >= 0 (0 = only at "
                    + "epoch ends), found " + everySteps);
        }
        if (kept < 1) {
            throw new PropertyException("", "checkpointsKept", "checkpointsKept must be at least 1, found " + kept);
        }
        if (everySteps > 0 && blank(checkpointDir)) {
            throw new PropertyException("", "checkpointEverySteps", "checkpointEverySteps is " + everySteps
                    + " but checkpointDir is empty; set checkpointDir to the folder for the checkpoints");
        }
        if (!blank(checkpointDir) && Files.exists(Paths.get(checkpointDir))
                && !Files.isDirectory(Paths.get(checkpointDir))) {
            throw new PropertyException("", "checkpointDir", "checkpointDir " + checkpointDir + " is a file, not a folder");
        }
        if (!blank(resumeFrom) && !Files.isDirectory(Paths.get(resumeFrom))) {
            throw new PropertyException("", "resumeFrom", "resumeFrom " + resumeFrom + " is not a folder; give the "
                    + "checkpointDir of the interrupted run");
        }
    }

    /** The configured pooling, or null for the backbone's own. */
    Pooling poolingOrNull() {
        return poolingOf(pooling);
    }

    /** The configured compute precision of the training steps. */
    ComputePrecision precision() {
        return precisionOf(computePrecision);
    }

    private static ComputePrecision precisionOf(String value) {
        try {
            return ComputePrecision.parse(value);
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "computePrecision", "computePrecision must be float32 or bfloat16, found '"
                    + value + "'");
        }
    }

    private static Pooling poolingOf(String pooling) {
        if (blank(pooling)) {
            return null;
        }
        try {
            return Pooling.valueOf(pooling.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "pooling", "pooling must be CLS or MEAN (or empty), found '" + pooling + "'");
        }
    }

    static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new PropertyException("", field, field + " must be positive, found " + value);
        }
    }
}
