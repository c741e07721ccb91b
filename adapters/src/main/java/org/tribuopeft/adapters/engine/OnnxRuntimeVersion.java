package org.tribuopeft.adapters.engine;

import java.security.CodeSource;

/**
 * Checks, before the first ONNX Runtime session, that the runtime on the classpath is at least the
 * version tribuo-peft was built against. Maven keeps one ONNX Runtime jar per classpath and, by its
 * nearest-wins rule, a user's direct {@code tribuo-onnx} dependency (which pins 1.20.0) beats ours
 * silently; without this check the mismatch shows up later as a missing method or a refused model.
 */
public final class OnnxRuntimeVersion {
    private static final String RESOURCE = "onnxruntime.properties";

    private static volatile boolean checked;

    private OnnxRuntimeVersion() {}

    /** The ONNX Runtime version this library was built against (from the build's pom). */
    public static String required() {
        return LibraryVersion.buildProperty(RESOURCE, "required");
    }

    /**
     * The version of the ONNX Runtime jar on the classpath, from its manifest, or null when the jar
     * does not say (a repackaged runtime), in which case nothing is checked.
     */
    public static String onClasspath() {
        Package p = ai.onnxruntime.OrtEnvironment.class.getPackage();
        return p == null ? null : p.getImplementationVersion();
    }

    /**
     * Throws {@link OnnxRuntimeVersionException} when the runtime on the classpath is older than
     * {@link #required()}; checks once per JVM.
     */
    public static void requireSupported() {
        if (checked) {
            return;
        }
        CodeSource source = ai.onnxruntime.OrtEnvironment.class.getProtectionDomain().getCodeSource();
        check(onClasspath(), required(), source == null ? "an unknown location" : source.getLocation().toString());
        checked = true;
    }

    /**
     * Throws {@link OnnxRuntimeVersionException} when {@code found} is an older version than
     * {@code required}; a null {@code found} (version unknown) passes.
     *
     * @param found    the version on the classpath, or null
     * @param required the minimum version, e.g. {@code 1.29.0}
     * @param location where the runtime on the classpath was loaded from, for the message
     */
    public static void check(String found, String required, String location) {
        if (found == null || compare(found, required) >= 0) {
            return;
        }
        throw new OnnxRuntimeVersionException("ONNX Runtime " + found + " is on the classpath (" + location
                + ") but tribuo-peft needs " + required + " or newer. Another dependency chose the older"
                + " version; Tribuo's tribuo-onnx 4.3.2 pins 1.20.0. Declare"
                + " com.microsoft.onnxruntime:onnxruntime:" + required + " (or onnxruntime_gpu) directly in your"
                + " project's dependencies, or exclude com.microsoft.onnxruntime from tribuo-onnx.");
    }

    /** Compares dotted numeric versions part by part; a non-numeric suffix such as {@code -rc1} is ignored. */
    static int compare(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(part(x, i), part(y, i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int part(String[] parts, int i) {
        if (i >= parts.length) {
            return 0;
        }
        String digits = parts[i].replaceAll("[^0-9].*$", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits);
    }
}
