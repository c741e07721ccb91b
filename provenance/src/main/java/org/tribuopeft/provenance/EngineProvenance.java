package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuo.Tribuo;
import org.tribuopeft.adapters.engine.LibraryVersion;
import org.tribuopeft.adapters.engine.TorchRuntime;

import java.util.HashMap;
import java.util.Map;

/**
 * The software and hardware a model was trained on: DJL, PyTorch, ONNX Runtime, Tribuo and Java
 * versions, the operating system, the device and the thread count. Bit-identical replay needs the
 * same values here.
 */
public final class EngineProvenance extends MapBackedProvenance {
    private static final long serialVersionUID = 1L;

    /** Unmarshalling constructor. */
    public EngineProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /**
     * Describes this JVM's engines.
     *
     * @param threads the PyTorch thread count asked for (0 = PyTorch's default)
     * @param device the device trained on, e.g. {@code cpu()}
     */
    public static EngineProvenance current(int threads, String device) {
        Map<String, Provenance> m = new HashMap<>();
        put(m, "tribuo-peft-version", LibraryVersion.current());
        put(m, "tribuo-peft-commit", LibraryVersion.commit());
        put(m, "djl-version", TorchRuntime.djlVersion());
        put(m, "pytorch-version", TorchRuntime.pytorchVersion());
        put(m, "onnxruntime-version", onnxRuntimeVersion());
        put(m, "tribuo-version", Tribuo.VERSION);
        put(m, "java-version", System.getProperty("java.version"));
        put(m, "java-vendor", System.getProperty("java.vendor"));
        put(m, "os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        put(m, "arch", System.getProperty("os.arch"));
        put(m, "device", device);
        m.put("threads", new IntProvenance("threads", threads));
        m.put("available-processors", new IntProvenance("available-processors",
                Runtime.getRuntime().availableProcessors()));
        return new EngineProvenance(m);
    }

    private static void put(Map<String, Provenance> m, String key, String value) {
        m.put(key, new StringProvenance(key, value == null ? "unknown" : value));
    }

    /** The ONNX Runtime jar's version from its manifest (with " (gpu)" for the CUDA build), or {@code unknown}. */
    static String onnxRuntimeVersion() {
        Package p = ai.onnxruntime.OrtEnvironment.class.getPackage();
        String version = p == null ? null : p.getImplementationVersion();
        if (version == null) {
            return "unknown";
        }
        String title = p.getImplementationTitle();
        return title != null && title.contains("gpu") ? version + " (gpu)" : version;
    }

    /** A field's value as text, or null when absent. */
    public String get(String key) {
        Provenance p = fields.get(key);
        if (p instanceof com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance<?> prim) {
            return String.valueOf(prim.getValue());
        }
        return p == null ? null : p.toString();
    }
}
