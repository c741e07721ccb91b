package org.tribuopeft.cli;

import ai.djl.ndarray.NDManager;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.quant.QuantizedTensor;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterExports;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterModels;
import org.tribuopeft.plugin.TextExamples;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a QLoRA adapter goes after training: onto the float32 base (users who deploy there), measured as held-out
 * IMDB accuracy on both bases ({@code float32-base}), and into Python PEFT ({@code peft-export}: the adapter as our
 * PEFT writer writes it, the NF4 base's codes and scales as stored, and our outputs on real reviews, for
 * {@code peft-python/qlora/qlora_check.py} to compare against).
 */
final class QLoraTransfer {
    private static final int BATCH = 32;

    private QLoraTransfer() {}

    /** Loads a QLoRA model saved by {@code qlora-benchmark --part imdb --save}. */
    @SuppressWarnings("unchecked")
    private static AdapterModel<Label> load(Path file) throws IOException {
        Model<?> m = AdapterModels.load(file);
        if (!(m instanceof AdapterModel<?> am) || am.quantization() == null) {
            throw new CliException("--model " + file + " is not a model trained on a quantized base (save one with "
                    + "qlora-benchmark --part imdb --storage nf4+dq --save FILE)");
        }
        return (AdapterModel<Label>) am;
    }

    /** The trained adapter and head on a fresh base stored as {@code quantization} says (null: float32). */
    private static TextModel onBase(AdapterModel<Label> model, BaseQuantization quantization) throws IOException {
        Backbone base = model.backboneReference().load(quantization);
        TextModel tm = TextModel.create(base, quantization, model.method(), TaskKind.SINGLE_LABEL,
                model.getOutputIDInfo().size(), model.textModel().tokenizer().maxLength(), new SplittableRandom(0));
        tm.restore(new TextModel.Snapshot(model.trainedTensors(), model.rankMasks()));
        return tm;
    }

    /**
     * Prints one Markdown row: held-out accuracy of the QLoRA-trained adapter on the base it trained on and on the
     * float32 base, and how far the class probabilities move between the two.
     */
    static void float32Base(Path modelFile, int train, int test, long seed, PrintStream out) throws IOException {
        AdapterModel<Label> model = load(modelFile);
        MutableDataset<Label> data = new MutableDataset<>(new ImdbDataSource(seed, train, test));
        List<String> texts = new ArrayList<>();
        List<Integer> gold = new ArrayList<>();
        var info = model.getOutputIDInfo();
        data.forEach(e -> {
            texts.add(TextExamples.text(e, "text", 0));
            gold.add(info.getID(e.getOutput()));
        });
        float[][] quantized;
        try (TextModel tm = onBase(model, model.quantization())) {
            quantized = tm.predict(texts, BATCH);
        }
        float[][] floats;
        try (TextModel tm = onBase(model, null)) {
            floats = tm.predict(texts, BATCH);
        }
        double max = 0;
        double sum = 0;
        int n = 0;
        for (int i = 0; i < texts.size(); i++) {
            for (int j = 0; j < floats[i].length; j++) {
                double d = Math.abs(floats[i][j] - quantized[i][j]);
                max = Math.max(max, d);
                sum += d;
                n++;
            }
        }
        out.println("| adapter trained on | held-out reviews | accuracy on its own base | accuracy on the float32 base | "
                + "mean / max \\|Δ probability\\| |");
        out.println("|---|---|---|---|---|");
        out.printf(Locale.ROOT, "| %s | %d | %.4f | %.4f | %.1e / %.1e |%n", model.quantization(), texts.size(),
                accuracy(quantized, gold), accuracy(floats, gold), sum / n, max);
    }

    private static double accuracy(float[][] probabilities, List<Integer> gold) {
        int right = 0;
        for (int i = 0; i < probabilities.length; i++) {
            int best = 0;
            for (int j = 1; j < probabilities[i].length; j++) {
                if (probabilities[i][j] > probabilities[i][best]) {
                    best = j;
                }
            }
            right += best == gold.get(i) ? 1 : 0;
        }
        return (double) right / probabilities.length;
    }

    /**
     * Writes, under {@code dir}: {@code peft/} (the adapter as our PEFT writer writes it, bare-encoder keys),
     * {@code base/config.json} and {@code base/nf4.safetensors} (the base as stored: float32 embeddings, LayerNorms and
     * biases, and for every Linear weight its 4-bit codes, 8-bit scale codes, per-256 absmax and offset, the bytes as
     * float32 integers) and {@code java.safetensors} (token ids, mask and types of {@code test} held-out reviews, and
     * our last hidden states and logits for them). Nothing here is committed: it holds model weights.
     */
    static void peftExport(Path modelFile, Path dir, int train, int test, long seed, PrintStream out)
            throws IOException {
        AdapterModel<Label> model = load(modelFile);
        BaseQuantization q = model.quantization();
        if (!q.type().equals("nf4") || !q.doubleQuant()) {
            throw new CliException("peft-export writes NF4 with double quantization (QLoRA's setting); the model was "
                    + "trained on " + q);
        }
        MutableDataset<Label> data = new MutableDataset<>(new ImdbDataSource(seed, train, test));
        List<String> texts = new ArrayList<>();
        data.forEach(e -> texts.add(TextExamples.text(e, "text", 0)));
        Files.createDirectories(dir);
        AdapterExports.write(model, dir.resolve("peft"), PeftKeyStyle.BARE_ENCODER, true);
        Backbone base = model.backboneReference().load(q);
        BertWeights weights = base.weights();
        Map<String, HostTensor> stored = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("quant_type", q.type());
        meta.put("block_size", Integer.toString(q.blockSize()));
        meta.put("double_quant", Boolean.toString(q.doubleQuant()));
        meta.put("scale_group", Integer.toString(QuantizedTensor.SCALE_GROUP));
        for (String name : BertWeights.expectedNames(base.config())) {
            QuantizedTensor t = weights.quantizedLinear(name);
            if (t == null) {
                stored.put(name, weights.get(name));
                continue;
            }
            long[] shape = t.shape();
            meta.put(name + ".shape", shape[0] + "," + shape[1]);
            stored.put(name + ".codes", bytes(t.codes()));
            stored.put(name + ".scale_codes", bytes(t.scaleCodes()));
            stored.put(name + ".absmax", new HostTensor(new long[] {t.scaleAbsmax().length}, t.scaleAbsmax()));
            stored.put(name + ".offset", new HostTensor(new long[] {1}, new float[] {t.scaleOffset()}));
        }
        AtomicFiles.writeFolder(dir.resolve("base"), tmp -> {
            Files.writeString(tmp.resolve(Backbone.CONFIG_JSON), new com.fasterxml.jackson.databind.ObjectMapper()
                    .writerWithDefaultPrettyPrinter().writeValueAsString(base.config().toHfJson()));
            SafetensorsWriter.write(tmp.resolve("nf4.safetensors"), stored, meta);
        }, true);
        TextModel tm = model.textModel();
        TokenBatch batch = tm.tokenizer().encode(texts);
        float[] hidden;
        try (NDManager m = TorchRuntime.engine().newBaseManager()) {
            hidden = tm.adapted().encoder().encode(m, batch).toFloatArray();
        }
        float[][] logits = tm.predictLogits(texts, BATCH);
        int rows = texts.size();
        int len = batch.length();
        Map<String, HostTensor> ours = new LinkedHashMap<>();
        ours.put("input_ids", longs(batch.ids()));
        ours.put("attention_mask", longs(batch.attentionMask()));
        ours.put("token_type_ids", longs(batch.typeIds()));
        ours.put("last_hidden_state", new HostTensor(new long[] {rows, len, base.config().hiddenSize()}, hidden));
        float[] flat = new float[rows * logits[0].length];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(logits[i], 0, flat, i * logits[i].length, logits[i].length);
        }
        ours.put("logits", new HostTensor(new long[] {rows, logits[0].length}, flat));
        Path tmp = Files.createTempFile(dir, "java", ".safetensors");
        try {
            SafetensorsWriter.write(tmp, ours, Map.of("pooling", base.pooling().name()));
            Files.move(tmp, dir.resolve("java.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        out.println("[qlora-benchmark] wrote " + dir.resolve("peft") + ", the " + q + " base and our outputs on "
                + rows + " held-out reviews to " + dir);
    }

    private static HostTensor bytes(byte[] b) {
        float[] v = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            v[i] = b[i] & 0xFF;
        }
        return new HostTensor(new long[] {b.length}, v);
    }

    private static HostTensor longs(long[][] rows) {
        int w = rows[0].length;
        float[] v = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < w; j++) {
                v[i * w + j] = rows[i][j];
            }
        }
        return new HostTensor(new long[] {rows.length, w}, v);
    }
}
