package org.tribuopeft.adapters.train;

import ai.djl.nn.Parameter;
import org.tribuopeft.adapters.checkpoint.CheckpointMismatchException;
import org.tribuopeft.adapters.engine.ComputePrecision;
import org.tribuopeft.adapters.io.Sha256;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What makes a run the same run: the loop's settings and seed, the training and validation data (by
 * size and SHA-256), the base model, the method and its settings, the task and the trained tensors'
 * shapes. A checkpoint records it; resuming compares it entry by entry and refuses a checkpoint of
 * another run, naming the first entry that differs.
 */
final class RunFingerprint {
    /** The entry naming how the base's Linear weights are stored; absent means float32. */
    static final String BASE_STORAGE = "baseStorage";
    /** The entry naming the training steps' compute precision; absent means float32. */
    static final String COMPUTE_PRECISION = "computePrecision";
    /** Entries added after checkpoints were first written, with the value their absence stands for, in order. */
    private static final List<Map.Entry<String, String>> LATER_ENTRIES = List.of(Map.entry(BASE_STORAGE, "float32"),
            Map.entry(COMPUTE_PRECISION, ComputePrecision.FLOAT32.configName()));

    private RunFingerprint() {}

    /** The fingerprint of one run. */
    static Map<String, String> of(TrainingConfig config, TextModel model, List<LabelledText> train,
                                  List<LabelledText> validation) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("seed", Long.toString(config.seed()));
        f.put("epochs", Integer.toString(config.epochs()));
        f.put("batchSize", Integer.toString(config.batchSize()));
        f.put("learningRate", Double.toString(config.learningRate()));
        f.put("weightDecay", Double.toString(config.weightDecay()));
        f.put("warmupRatio", Double.toString(config.warmupRatio()));
        f.put("maxGradNorm", Double.toString(config.maxGradNorm()));
        f.put("earlyStoppingPatience", Integer.toString(config.earlyStoppingPatience()));
        f.put("evalBatchSize", Integer.toString(config.evalBatchSize()));
        f.put("trainingExamples", Integer.toString(train.size()));
        f.put("trainingDataSha256", dataSha256(train));
        f.put("validationExamples", Integer.toString(validation.size()));
        f.put("validationDataSha256", dataSha256(validation));
        f.put("baseModelSha256", model.backbone().source().weightsFileSha256());
        f.put("maxLength", Integer.toString(model.tokenizer().maxLength()));
        f.put("task", model.task().name());
        var method = model.adapted().method();
        f.put("method", method.getClass().getSimpleName() + method.getProvenance().getConfiguredParameters());
        // only a quantized base adds the entry, so checkpoints written before it existed still resume
        model.adapted().encoder().quantization().ifPresent(q -> f.put(BASE_STORAGE, q.toString()));
        // bfloat16 steps give other weights than float32 ones; float32 adds nothing, so older checkpoints still resume
        if (config.computePrecision() != ComputePrecision.FLOAT32) {
            f.put(COMPUTE_PRECISION, config.computePrecision().configName());
        }
        StringBuilder shapes = new StringBuilder();
        for (Map.Entry<String, Parameter> e : model.trainableParameters().entrySet()) {
            shapes.append(e.getKey()).append(e.getValue().getArray().getShape()).append('\n');
        }
        f.put("trainedTensorsSha256", Sha256.of(shapes.toString().getBytes(StandardCharsets.UTF_8)));
        return f;
    }

    /**
     * Turns a replica's fingerprint into the data-parallel run's: the training data become every shard's
     * (their count and the digest of their digests) and the layout is added, so every replica and a one-process
     * replay of the layout share one fingerprint.
     */
    static void dataParallel(Map<String, String> f, ShardPlan plan, String shardsDigest) {
        f.put("trainingExamples", Integer.toString(plan.layout().totalExamples()));
        f.put("trainingDataSha256", shardsDigest);
        f.put("dataParallel", "shards=" + java.util.Arrays.toString(plan.layout().shardSizes()) + " localBatch="
                + plan.localBatch());
    }

    /**
     * Fails unless a checkpoint's fingerprint is this run's.
     *
     * @throws CheckpointMismatchException naming the first differing entry, both values and the checkpoint
     */
    static void requireSame(Map<String, String> run, Map<String, String> checkpoint, Object where) {
        Map<String, String> all = new LinkedHashMap<>(run);
        checkpoint = new LinkedHashMap<>(checkpoint);
        for (Map.Entry<String, String> later : LATER_ENTRIES) {
            all.putIfAbsent(later.getKey(), later.getValue());
            checkpoint.putIfAbsent(later.getKey(), later.getValue());
        }
        for (Map.Entry<String, String> e : all.entrySet()) {
            String theirs = checkpoint.get(e.getKey());
            if (!Objects.equals(e.getValue(), theirs)) {
                throw new CheckpointMismatchException(e.getKey(), "checkpoint " + where + " belongs to a different run: "
                        + e.getKey() + " is " + e.getValue() + " in this run but " + theirs + " in the checkpoint; "
                        + "resume with the settings and data of the run that wrote it, or start without resuming");
            }
        }
    }

    static String dataSha256(List<LabelledText> examples) {
        MessageDigest md = Sha256.newDigest();
        ByteBuffer buf = ByteBuffer.allocate(4);
        for (LabelledText t : examples) {
            byte[] text = t.text().getBytes(StandardCharsets.UTF_8);
            md.update(buf.clear().putInt(text.length).array());
            md.update(text);
            for (float v : t.target()) {
                md.update(buf.clear().putFloat(v).array());
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
