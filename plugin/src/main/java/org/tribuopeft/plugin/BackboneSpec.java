package org.tribuopeft.plugin;

import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.quant.BaseQuantization;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns the trainer's {@code backbone} setting into a loaded model: a bundled model name, a Hugging
 * Face model folder, or an {@code .onnx} file (with {@code tokenizer.json} beside it unless another
 * tokenizer is named). File-based backbones are cached by path, size, modification time and storage.
 */
public final class BackboneSpec {
    private static final Map<String, Backbone> FILE_CACHE = new ConcurrentHashMap<>();

    private BackboneSpec() {}

    /**
     * Loads a backbone.
     *
     * @param backbone bundled name, folder, or .onnx file
     * @param tokenizer tokenizer.json for an .onnx file; empty for the sibling tokenizer.json
     * @param pooling the pooling to use, or null for the model's own (MEAN for files)
     * @throws ModelFileException when the setting names nothing loadable
     */
    public static Backbone open(String backbone, String tokenizer, Pooling pooling) throws IOException {
        return open(backbone, tokenizer, pooling, null);
    }

    /**
     * Loads a backbone with its Linear weights held as {@code quantization} says (null: float32), each quantized as
     * it is read, so that no float32 copy of them is kept; cached per storage.
     *
     * @throws ModelFileException when the setting names nothing loadable
     * @throws IllegalArgumentException when the block size does not divide the model's Linear widths
     */
    public static Backbone open(String backbone, String tokenizer, Pooling pooling, BaseQuantization quantization)
            throws IOException {
        if (backbone == null || backbone.isBlank()) {
            throw new IllegalArgumentException("backbone is empty; name a bundled model " + BundledModel.names()
                    + ", a Hugging Face folder or an .onnx file");
        }
        var bundled = BundledModel.byName(backbone.trim());
        if (bundled.isPresent()) {
            Backbone b = Backbone.bundled(bundled.get(), quantization);
            return pooling == null ? b : b.withPooling(pooling);
        }
        Path path = Paths.get(backbone);
        Pooling p = pooling == null ? Pooling.MEAN : pooling;
        if (Files.isDirectory(path)) {
            return cached(path, "", p, quantization, () -> Backbone.fromHfFolder(path, p, quantization));
        }
        if (path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            Path tok = tokenizer == null || tokenizer.isBlank() ? path.resolveSibling(Backbone.TOKENIZER_JSON)
                    : Paths.get(tokenizer);
            return cached(path, tok.toString(), p, quantization, () -> Backbone.fromOnnx(path, tok, p, quantization));
        }
        throw new ModelFileException(backbone, Files.exists(path)
                ? "is neither a Hugging Face model folder nor an .onnx file"
                : "is not a bundled model " + BundledModel.names() + " and does not exist as a file or folder");
    }

    /** The tokenizer location an .onnx backbone setting implies (empty for other kinds). */
    public static String tokenizerLocation(String backbone, String tokenizer) {
        if (BundledModel.byName(backbone.trim()).isPresent() || !backbone.toLowerCase(Locale.ROOT).endsWith(".onnx")) {
            return "";
        }
        return tokenizer == null || tokenizer.isBlank()
                ? Paths.get(backbone).resolveSibling(Backbone.TOKENIZER_JSON).toString() : tokenizer;
    }

    private interface Loader {
        Backbone load() throws IOException;
    }

    private static Backbone cached(Path path, String tokenizer, Pooling pooling, BaseQuantization quantization,
                                   Loader loader) throws IOException {
        StringBuilder key = new StringBuilder(path.toAbsolutePath() + "|" + tokenizer + "|" + pooling + "|"
                + (quantization == null ? BaseQuantization.FLOAT32 : quantization.toString()));
        Path[] files = Files.isDirectory(path)
                ? new Path[] {path.resolve(Backbone.MODEL_SAFETENSORS), path.resolve(Backbone.CONFIG_JSON),
                    path.resolve(Backbone.TOKENIZER_JSON)}
                : new Path[] {path, Paths.get(tokenizer)};
        for (Path f : files) {
            key.append('|').append(Files.exists(f) ? Files.size(f) + "@" + Files.getLastModifiedTime(f) : "missing");
        }
        Backbone b = FILE_CACHE.get(key.toString());
        if (b == null) {
            b = loader.load();
            FILE_CACHE.put(key.toString(), b);
        }
        return b;
    }
}
