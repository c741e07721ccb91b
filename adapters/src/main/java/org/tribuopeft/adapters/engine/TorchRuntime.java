package org.tribuopeft.adapters.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The one place that configures DJL and its PyTorch engine for this library: offline operation (no
 * telemetry, no native downloads: the natives come from Maven Central jars), the engine choice and
 * the CPU thread count. Call {@link #configure(int)} before the first DJL call; PyTorch fixes its
 * thread pools at start, so a later call asking for another count only warns, and
 * {@link #configuredThreads()} reports what is really in force.
 */
public final class TorchRuntime {
    /** The engine we train with. */
    public static final String ENGINE = "PyTorch";

    private static Integer configuredThreads;

    private TorchRuntime() {}

    /**
     * Configures DJL once per JVM.
     *
     * @param threads PyTorch intra-op threads, or 0 to let PyTorch choose (one per core)
     * @return the thread setting in force (0 = PyTorch's default)
     */
    public static synchronized int configure(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
        if (configuredThreads != null) {
            if (threads != 0 && configuredThreads != threads) {
                System.err.println("WARNING: PyTorch already started with " + describe(configuredThreads)
                        + "; the request for " + threads + " threads has no effect in this JVM");
            }
            return configuredThreads;
        }
        setIfAbsent("OPT_OUT_TRACKING", "true");
        setIfAbsent("ai.djl.offline", "true");
        setIfAbsent("ai.djl.default_engine", ENGINE);
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        configuredThreads = threads;
        return threads;
    }

    /** Configures with PyTorch's default thread count if nothing was configured yet; returns the engine. */
    public static Engine engine() {
        synchronized (TorchRuntime.class) {
            if (configuredThreads == null) {
                configure(0);
            }
        }
        return Engine.getEngine(ENGINE);
    }

    /** Thread count asked for (0 = PyTorch's default), or null before configuration. */
    public static synchronized Integer configuredThreads() {
        return configuredThreads;
    }

    /** PyTorch's version as DJL reports it, e.g. {@code 2.7.1}. */
    public static String pytorchVersion() {
        return engine().getVersion();
    }

    /** DJL's version, e.g. {@code 0.35.1}. */
    public static String djlVersion() {
        return Engine.getDjlVersion();
    }

    /** The device new arrays go to by default (a GPU when DJL sees one, else the CPU). */
    public static Device defaultDevice() {
        return engine().defaultDevice();
    }

    /**
     * Turns PyTorch's autograd recording off for the calling thread. PyTorch keeps this switch per
     * thread and it starts on in every new thread, while DJL turns it off only on the thread that
     * loaded the engine; a training on another thread (a Tribuo cross-validation fold, a pool) would
     * otherwise fail on the first in-place update of a trainable array ("a leaf Variable that requires
     * grad is being used in an in-place operation"). Gradient collectors switch it on and back.
     */
    public static void gradientsOffOnThisThread() {
        engine();
        JniUtils.setGradMode(false);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null && System.getenv(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static String describe(int threads) {
        return threads == 0 ? "its default thread count" : threads + " threads";
    }
}
