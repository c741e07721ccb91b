package org.tribuopeft.adapters.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.HiddenActivation;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A small random BERT with a real WordPiece tokenizer over letters, fast to build and run, for tests
 * that need an encoder on text but not a pretrained one. Written as a Hugging Face folder so it is
 * loaded through the same path as real models.
 */
public final class TinyBert {
    private static final Map<Long, Path> FOLDERS = new ConcurrentHashMap<>();
    private static final List<String> VOCAB = vocab();

    private TinyBert() {}

    /** 2 layers, hidden 16, 4 heads, FFN 32, vocab 64, 40 positions. */
    public static BertConfig config() {
        return new BertConfig(VOCAB.size(), 16, 2, 4, 32, 40, 2, 1e-12, HiddenActivation.GELU, 0.1, 0.1);
    }

    /**
     * The tiny model made wide enough for 4-bit quantization: 2 layers, hidden 64, 4 heads, FFN 128 (bitsandbytes'
     * smallest block, 32, and its default, 64, both divide every Linear width).
     */
    public static BertConfig wideConfig() {
        return new BertConfig(VOCAB.size(), 64, 2, 4, 128, 40, 2, 1e-12, HiddenActivation.GELU, 0.1, 0.1);
    }

    /** A Hugging Face folder holding the {@link #wideConfig()} model of this seed (written once per JVM). */
    public static Path wideFolder(long seed) {
        return folder(-1 - seed, weights(wideConfig(), seed));
    }

    /** The {@link #wideConfig()} model of this seed, loaded from its folder with mean pooling. */
    public static Backbone wideBackbone(long seed) {
        try {
            return Backbone.fromHfFolder(wideFolder(seed), Pooling.MEAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random weights (uniform ±0.35, LayerNorm gamma near 1) for {@link #config()}, reproducible by seed. */
    public static BertWeights weights(long seed) {
        return weights(config(), seed);
    }

    /** Random weights for any configuration. */
    public static BertWeights weights(BertConfig config, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : BertWeights.expectedShapes(config).entrySet()) {
            long[] shape = e.getValue();
            float[] data = new float[(int) HostTensor.elementCount(shape)];
            boolean gamma = e.getKey().endsWith("LayerNorm.weight");
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) ((gamma ? 1.0 : 0.0) + rng.nextDouble(-0.35, 0.35));
            }
            tensors.put(e.getKey(), new HostTensor(shape, data));
        }
        try {
            return new BertWeights(config, tensors, "tiny");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Hugging Face folder holding the tiny model of this seed (written once per JVM). */
    public static Path folder(long seed) {
        return folder(seed, null);
    }

    private static Path folder(long key, BertWeights given) {
        return FOLDERS.computeIfAbsent(key, s -> {
            try {
                Path dir = Files.createTempDirectory("tinybert-" + s);
                Path folder = dir.resolve("model");
                Backbone.writeHfFolder(folder, given != null ? given : weights(s), tokenizerJson());
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        AtomicFiles.deleteRecursively(dir);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }));
                return folder;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The tiny model of this seed, loaded from its folder with mean pooling. */
    public static Backbone backbone(long seed) {
        try {
            return Backbone.fromHfFolder(folder(seed), Pooling.MEAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A BERT WordPiece tokenizer.json whose vocabulary is the letters a-z, their ## forms and punctuation. */
    public static byte[] tokenizerJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < 5; i++) {
            ObjectNode t = added.addObject();
            t.put("id", i).put("content", VOCAB.get(i)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = root.putObject("normalizer");
        norm.put("type", "BertNormalizer").put("clean_text", true).put("handle_chinese_chars", true)
                .putNull("strip_accents");
        norm.put("lowercase", true);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "[CLS]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        pair.addObject().putObject("SpecialToken").put("id", "[SEP]").put("type_id", 1);
        ObjectNode specials = post.putObject("special_tokens");
        for (String s : List.of("[CLS]", "[SEP]")) {
            ObjectNode sp = specials.putObject(s);
            sp.put("id", s);
            sp.putArray("ids").add(VOCAB.indexOf(s));
            sp.putArray("tokens").add(s);
        }
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < VOCAB.size(); i++) {
            v.put(VOCAB.get(i), i);
        }
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> vocab() {
        List<String> v = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (char c = 'a'; c <= 'z'; c++) {
            v.add(String.valueOf(c));
        }
        for (char c = 'a'; c <= 'z'; c++) {
            v.add("##" + c);
        }
        v.addAll(List.of(".", ",", "!", "?", "'", "-", "0"));
        return List.copyOf(v);
    }
}
