package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.ListProvenance;
import com.oracle.labs.mlrg.olcut.provenance.MapProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.BooleanProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.DoubleProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.LongProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuopeft.adapters.train.EpochResult;
import org.tribuopeft.adapters.train.TrainingReport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a training run actually did: the seeds used, the invocation count, epochs and steps planned
 * and run, where early stopping left the model, per-epoch losses and validation results, parameter
 * counts, AdaLoRA's final rank pattern, and the engines it ran on.
 */
public final class TrainingRunProvenance extends MapBackedProvenance {
    private static final long serialVersionUID = 1L;

    /** Field holding the wall time, which legitimately differs between runs. */
    public static final String SECONDS = "training-seconds";

    /** Unmarshalling constructor. */
    public TrainingRunProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /**
     * Records a run.
     *
     * @param report the training loop's report
     * @param modelSeed the seed that initialised the adapter and head
     * @param trainingSeed the seed of shuffling and dropout
     * @param invocationCount the trainer's invocation count for this run
     * @param trainable trainable parameter count (head included)
     * @param total total parameter count
     * @param rankPattern AdaLoRA kept-triplet masks by module (empty for other methods)
     * @param trainExamples examples trained on
     * @param validationExamples examples held out for per-epoch validation
     * @param engine the engines
     */
    public static TrainingRunProvenance of(TrainingReport report, long modelSeed, long trainingSeed, int invocationCount,
                                           long trainable, long total, Map<String, boolean[]> rankPattern,
                                           int trainExamples, int validationExamples, EngineProvenance engine) {
        Map<String, Provenance> m = new HashMap<>();
        m.put("model-seed", new LongProvenance("model-seed", modelSeed));
        m.put("training-seed", new LongProvenance("training-seed", trainingSeed));
        m.put("invocation-count", new IntProvenance("invocation-count", invocationCount));
        m.put("epochs-planned", new IntProvenance("epochs-planned", report.plannedEpochs()));
        m.put("epochs-run", new IntProvenance("epochs-run", report.epochs().size()));
        m.put("steps-planned", new IntProvenance("steps-planned", report.plannedSteps()));
        m.put("steps-run", new IntProvenance("steps-run", report.stepsRun()));
        m.put("best-epoch", new IntProvenance("best-epoch", report.bestEpoch()));
        m.put("stopped-early", new BooleanProvenance("stopped-early", report.stoppedEarly()));
        m.put("train-examples", new IntProvenance("train-examples", trainExamples));
        m.put("validation-examples", new IntProvenance("validation-examples", validationExamples));
        m.put("trainable-parameters", new LongProvenance("trainable-parameters", trainable));
        m.put("total-parameters", new LongProvenance("total-parameters", total));
        m.put(SECONDS, new DoubleProvenance(SECONDS, report.totalSeconds()));
        m.put("median-step-seconds", new DoubleProvenance("median-step-seconds", report.medianStepSeconds()));
        List<EpochProvenance> epochs = new ArrayList<>();
        for (EpochResult e : report.epochs()) {
            epochs.add(EpochProvenance.of(e));
        }
        m.put("epochs", new ListProvenance<>(epochs));
        Map<String, StringProvenance> ranks = new TreeMap<>();
        rankPattern.forEach((module, mask) -> ranks.put(module, new StringProvenance(module, bits(mask))));
        m.put("rank-pattern", new MapProvenance<>(ranks));
        m.put("engine", engine);
        return new TrainingRunProvenance(m);
    }

    private static String bits(boolean[] mask) {
        StringBuilder sb = new StringBuilder(mask.length);
        for (boolean b : mask) {
            sb.append(b ? '1' : '0');
        }
        return sb.toString();
    }

    /** The epochs run. */
    public int epochsRun() {
        return field("epochs-run", IntProvenance.class).getValue();
    }

    /** The steps run. */
    public int stepsRun() {
        return field("steps-run", IntProvenance.class).getValue();
    }

    /** The engines. */
    public EngineProvenance engine() {
        return field("engine", EngineProvenance.class);
    }

    /** The AdaLoRA rank pattern as module → kept-triplet bit string. */
    public Map<String, String> rankPattern() {
        @SuppressWarnings("unchecked")
        MapProvenance<StringProvenance> p = field("rank-pattern", MapProvenance.class);
        Map<String, String> out = new TreeMap<>();
        p.getMap().forEach((k, v) -> out.put(k, v.getValue()));
        return out;
    }
}
