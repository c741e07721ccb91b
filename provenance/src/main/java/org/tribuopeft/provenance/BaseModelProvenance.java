package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.DoubleProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.LongProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BackboneSource;
import org.tribuopeft.adapters.backbone.BertConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * Where the pretrained encoder came from and what it is: the loader, the file or Maven coordinates,
 * the SHA-256 of the weight file's bytes, and the architecture read from the model.
 */
public final class BaseModelProvenance extends MapBackedProvenance {
    private static final long serialVersionUID = 1L;

    /** Field holding the SHA-256 of the weight file. */
    public static final String WEIGHTS_SHA256 = "weights-sha256";
    /** Field holding the loader kind (BUNDLED, ONNX_FILE, HF_FOLDER). */
    public static final String KIND = "kind";
    /** Field holding the bundled name, file or folder. */
    public static final String LOCATION = "location";
    /** Field holding the weight file that was hashed. */
    public static final String WEIGHTS_FILE = "weights-file";

    /** Unmarshalling constructor. */
    public BaseModelProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /** Describes a loaded backbone. */
    public static BaseModelProvenance of(Backbone backbone) {
        BackboneSource s = backbone.source();
        BertConfig c = backbone.config();
        Map<String, Provenance> m = new HashMap<>();
        m.put(KIND, new StringProvenance(KIND, s.kind().name()));
        m.put(LOCATION, new StringProvenance(LOCATION, s.location()));
        m.put(WEIGHTS_FILE, new StringProvenance(WEIGHTS_FILE, s.weightsFile()));
        m.put(WEIGHTS_SHA256, new HashProvenance(ProvenanceUtil.HashType.SHA256, WEIGHTS_SHA256, s.weightsFileSha256()));
        m.put("maven-coordinates", new StringProvenance("maven-coordinates",
                s.mavenCoordinates() == null ? "" : s.mavenCoordinates()));
        m.put("architecture", new StringProvenance("architecture", "bert"));
        m.put("layers", new IntProvenance("layers", c.numLayers()));
        m.put("hidden-size", new IntProvenance("hidden-size", c.hiddenSize()));
        m.put("attention-heads", new IntProvenance("attention-heads", c.numHeads()));
        m.put("intermediate-size", new IntProvenance("intermediate-size", c.intermediateSize()));
        m.put("vocab-size", new IntProvenance("vocab-size", c.vocabSize()));
        m.put("max-positions", new IntProvenance("max-positions", c.maxPositions()));
        m.put("layer-norm-eps", new DoubleProvenance("layer-norm-eps", c.layerNormEps()));
        m.put("hidden-act", new StringProvenance("hidden-act", c.hiddenAct().hfName()));
        m.put("parameters", new LongProvenance("parameters", backbone.weights().parameterCount()));
        m.put("pooling", new StringProvenance("pooling", backbone.pooling().name()));
        return new BaseModelProvenance(m);
    }

    /** The loader kind. */
    public String kind() {
        return field(KIND, StringProvenance.class).getValue();
    }

    /** The bundled name, file or folder. */
    public String location() {
        return field(LOCATION, StringProvenance.class).getValue();
    }

    /** The file whose bytes were hashed. */
    public String weightsFile() {
        return field(WEIGHTS_FILE, StringProvenance.class).getValue();
    }

    /** SHA-256 of the weight file. */
    public String weightsSha256() {
        return field(WEIGHTS_SHA256, HashProvenance.class).getValue();
    }

    /** The recorded pooling. */
    public String pooling() {
        return field("pooling", StringProvenance.class).getValue();
    }
}
