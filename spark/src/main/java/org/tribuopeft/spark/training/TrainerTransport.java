package org.tribuopeft.spark.training;

import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import org.tribuo.Output;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuopeft.plugin.AdapterTrainer;

import java.util.List;

/**
 * Ships a trainer to the executors as text: its provenance in JSON, from which each task rebuilds the same trainer
 * with OLCUT (as a replay does). Trainers are not Java-serializable, and the provenance is the complete, versioned
 * description of one anyway. Settings redacted from provenance (checkpoints) are set by the task.
 */
final class TrainerTransport {
    private TrainerTransport() {}

    /** The trainer as JSON. */
    static String toJson(AdapterTrainer<?> trainer) {
        return new JsonProvenanceSerialization(true).marshalAndSerialize(trainer.getProvenance());
    }

    /** The trainer described by {@link #toJson}, at invocation count 0. */
    @SuppressWarnings("unchecked")
    static <T extends Output<T>> AdapterTrainer<T> fromJson(String json) {
        Object p;
        try {
            p = new JsonProvenanceSerialization(true).deserializeAndUnmarshal(json);
        } catch (com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException e) {
            throw new IllegalStateException("cannot read the shipped trainer description (is the executor's "
                    + "tribuo-peft the driver's version?): " + e.getMessage(), e);
        }
        if (!(p instanceof TrainerProvenance tp)) {
            throw new IllegalArgumentException("the shipped trainer description is a "
                    + p.getClass().getName() + ", not a trainer's provenance");
        }
        List<ConfigurationData> configs = ProvenanceUtil.extractConfiguration(tp);
        ConfigurationManager cm = new ConfigurationManager();
        cm.addConfiguration(configs);
        return (AdapterTrainer<T>) cm.lookup(configs.get(0).getName());
    }
}
