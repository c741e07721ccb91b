package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.DoubleProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuopeft.adapters.train.EpochResult;

import java.util.HashMap;
import java.util.Map;

/** One epoch of a training run: its loss and validation result. */
public final class EpochProvenance extends MapBackedProvenance {
    private static final long serialVersionUID = 1L;

    /** Unmarshalling constructor. */
    public EpochProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /** Records an epoch. */
    public static EpochProvenance of(EpochResult e) {
        Map<String, Provenance> m = new HashMap<>();
        m.put("epoch", new IntProvenance("epoch", e.epoch()));
        m.put("steps", new IntProvenance("steps", e.steps()));
        m.put("train-loss", new DoubleProvenance("train-loss", e.trainLoss()));
        m.put("validation-loss", new DoubleProvenance("validation-loss", e.validationLoss()));
        m.put("validation-metric", new StringProvenance("validation-metric", e.validationMetricName()));
        m.put("validation-value", new DoubleProvenance("validation-value", e.validationMetric()));
        return new EpochProvenance(m);
    }

    /** The mean training loss. */
    public double trainLoss() {
        return field("train-loss", DoubleProvenance.class).getValue();
    }
}
