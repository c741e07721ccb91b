package org.tribuopeft.plugin;

import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.provenance.EngineProvenance;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TrainingRunProvenance;
import org.tribuopeft.provenance.replay.ModelReplayer;

/**
 * Replays an {@link AdapterModel} from its provenance: same configuration, data, base model, seed and
 * invocation count; the report compares every trained tensor with the original.
 */
public final class Replays {
    private Replays() {}

    /**
     * Retrains a model from its provenance and compares it with the original. Configures PyTorch with
     * the recorded thread count first (when this JVM has not started it yet), since CPU results are
     * bit-reproducible only at the same thread count.
     *
     * @throws org.tribuopeft.provenance.replay.ReplayRefusedException when the data file or base model changed
     */
    public static <T extends Output<T>> ModelReplayer.Result<T> replay(AdapterModel<T> original) {
        var run = original.getProvenance().getInstanceProvenance().getMap().get(RunProvenanceKeys.TRAINING_RUN);
        if (run instanceof TrainingRunProvenance trp) {
            EngineProvenance engine = trp.engine();
            String threads = engine.get("threads");
            if (threads != null) {
                TorchRuntime.configure(Integer.parseInt(threads));
            }
        }
        return ModelReplayer.replay(original, Replays::tensors);
    }

    private static <T extends Output<T>> java.util.Map<String, org.tribuopeft.adapters.tensor.HostTensor> tensors(
            Model<T> m) {
        if (!(m instanceof AdapterModel<T> am)) {
            throw new IllegalArgumentException("not an AdapterModel: " + m.getClass().getName());
        }
        return am.trainedTensors();
    }
}
