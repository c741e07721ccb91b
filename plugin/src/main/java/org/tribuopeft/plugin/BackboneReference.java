package org.tribuopeft.plugin;

import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BackboneSource;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.plugin.protos.BackboneReferenceProto;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * How a trained model finds its pretrained base again: the loader, the location, and the checksums
 * the files must still have. Loading verifies both checksums. Two system properties override:
 * {@code tribuopeft.backbone.location} loads the base from another place (still verified), and
 * {@code tribuopeft.backbone.allowMismatch=true} accepts a base whose checksum differs.
 *
 * @param kind the loader
 * @param location the bundled name, .onnx file or folder
 * @param tokenizerLocation tokenizer.json of an .onnx backbone (empty otherwise)
 * @param weightsSha256 SHA-256 of the weight file
 * @param tokenizerSha256 SHA-256 of tokenizer.json
 * @param pooling the pooling the model was trained with
 * @param mavenCoordinates the jar of a bundled model (empty otherwise)
 */
public record BackboneReference(BackboneSource.Kind kind, String location, String tokenizerLocation,
                                String weightsSha256, String tokenizerSha256, Pooling pooling,
                                String mavenCoordinates) {
    /** System property: load the base from here instead of the recorded location. */
    public static final String LOCATION_OVERRIDE = "tribuopeft.backbone.location";
    /** System property: accept a base whose SHA-256 differs from the recorded one. */
    public static final String ALLOW_MISMATCH = "tribuopeft.backbone.allowMismatch";

    /** The reference to a loaded backbone. */
    public static BackboneReference of(Backbone backbone, String tokenizerLocation) {
        BackboneSource s = backbone.source();
        return new BackboneReference(s.kind(), s.location(), tokenizerLocation == null ? "" : tokenizerLocation,
                s.weightsFileSha256(), backbone.tokenizerSha256(), backbone.pooling(),
                s.mavenCoordinates() == null ? "" : s.mavenCoordinates());
    }

    /** Loads the backbone in float32, honouring the override properties. */
    public Backbone load() {
        return load((BaseQuantization) null);
    }

    /**
     * Loads the backbone with its Linear weights held as {@code quantization} says (null: float32), honouring the
     * override properties; a quantized base is quantized as it is read and keeps no float32 Linear weights.
     */
    public Backbone load(BaseQuantization quantization) {
        String override = System.getProperty(LOCATION_OVERRIDE);
        boolean allow = Boolean.getBoolean(ALLOW_MISMATCH);
        return load(override == null || override.isBlank() ? null : override, allow, quantization);
    }

    /**
     * Loads the backbone.
     *
     * @param locationOverride another location to load from, or null for the recorded one
     * @param allowMismatch accept different checksums (a warning is printed)
     * @throws BaseModelMismatchException when the files are missing or their checksums differ
     */
    public Backbone load(String locationOverride, boolean allowMismatch) {
        return load(locationOverride, allowMismatch, null);
    }

    /**
     * Loads the backbone with its Linear weights held as {@code quantization} says (null: float32).
     *
     * @param locationOverride another location to load from, or null for the recorded one
     * @param allowMismatch accept different checksums (a warning is printed)
     * @param quantization the storage of the Linear weights, or null for float32
     * @throws BaseModelMismatchException when the files are missing or their checksums differ
     */
    public Backbone load(String locationOverride, boolean allowMismatch, BaseQuantization quantization) {
        String where = locationOverride != null ? locationOverride : location;
        String from = locationOverride != null ? "'" + where + "' (given by -D" + LOCATION_OVERRIDE + "; recorded: '"
                + location + "')" : "'" + where + "'";
        Backbone b;
        try {
            b = BackboneSpec.open(where, kind == BackboneSource.Kind.ONNX_FILE ? tokenizerLocation : "", pooling,
                    quantization);
        } catch (IOException | RuntimeException e) {
            throw new BaseModelMismatchException("cannot load the base model this model was trained on from " + from
                    + ": " + e.getMessage() + ". Put the base model (SHA-256 " + weightsSha256 + ") back at '"
                    + location + "', or, if it moved, point to it with -D" + LOCATION_OVERRIDE + "=<path>", e);
        }
        check("weights", b.source().weightsFile(), weightsSha256, b.source().weightsFileSha256(), allowMismatch);
        check("tokenizer", where, tokenizerSha256, b.tokenizerSha256(), allowMismatch);
        return b.withPooling(pooling);
    }

    private static void check(String what, String file, String expected, String actual, boolean allow) {
        if (expected.equals(actual)) {
            return;
        }
        String msg = "the base model's " + what + " file " + file + " has SHA-256 " + actual + " but the model was trained "
                + "on SHA-256 " + expected;
        if (!allow) {
            throw new BaseModelMismatchException(msg + ". Restore the original base model at that place, or point to "
                    + "a copy of the original with -D" + LOCATION_OVERRIDE + "=<path>; -D" + ALLOW_MISMATCH + "=true "
                    + "uses this one anyway, and its predictions will differ from the trained model's");
        }
        System.err.println("WARNING: " + msg + " (allowed by " + ALLOW_MISMATCH + ")");
    }

    /** The protobuf form. */
    public BackboneReferenceProto toProto() {
        return BackboneReferenceProto.newBuilder().setKind(kind.name()).setLocation(location)
                .setTokenizerLocation(tokenizerLocation).setWeightsSha256(weightsSha256)
                .setTokenizerSha256(tokenizerSha256).setPooling(pooling.name()).setMavenCoordinates(mavenCoordinates)
                .build();
    }

    /**
     * Reads the protobuf form.
     *
     * @throws IllegalArgumentException naming the field when the kind or pooling is not one this build knows
     */
    public static BackboneReference fromProto(BackboneReferenceProto p) {
        return new BackboneReference(constant(BackboneSource.Kind.class, "kind", p.getKind()), p.getLocation(),
                p.getTokenizerLocation(), p.getWeightsSha256(), p.getTokenizerSha256(),
                constant(Pooling.class, "pooling", p.getPooling()), p.getMavenCoordinates());
    }

    private static <E extends Enum<E>> E constant(Class<E> type, String field, String value) {
        try {
            return Enum.valueOf(type, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the base model reference's " + field + " is '" + value + "', not one of "
                    + Arrays.toString(type.getEnumConstants()), e);
        }
    }

    /** True when this reference names a bundled model. */
    public boolean isBundled() {
        return kind == BackboneSource.Kind.BUNDLED && BundledModel.byName(location).isPresent();
    }

    /** The location as a path (for file-based kinds). */
    public Path path() {
        return Paths.get(location);
    }
}
