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

    /** Field holding the settings the run resolved from the data (see {@link Builder#resolvedSettings}). */
    public static final String RESOLVED_SETTINGS = "resolved-settings";
    /** Key of the cluster layout of a data-parallel run (absent for a run in one process). */
    public static final String DATA_PARALLEL = "data-parallel";

    /** Unmarshalling constructor. */
    public TrainingRunProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /**
     * Starts recording a run; every other field has a setter on the builder.
     *
     * @param report the training loop's report
     * @param engine the engines the run used
     */
    public static Builder builder(TrainingReport report, EngineProvenance engine) {
        return new Builder(report, engine);
    }

    /**
     * Collects what a run did, field by field, so that no call site passes ten numbers in a row.
     * Unset fields are recorded as zero or empty.
     */
    public static final class Builder {
        private final TrainingReport report;
        private final EngineProvenance engine;
        private long modelSeed;
        private long trainingSeed;
        private int invocationCount;
        private long trainable;
        private long total;
        private Map<String, boolean[]> rankPattern = Map.of();
        private int trainExamples;
        private int validationExamples;
        private Map<String, String> resolved = Map.of();
        private Map<String, String> layout = Map.of();

        private Builder(TrainingReport report, EngineProvenance engine) {
            this.report = report;
            this.engine = engine;
        }

        /** The seed that initialised the adapter and head, and the seed of shuffling and dropout. */
        public Builder seeds(long newModelSeed, long newTrainingSeed) {
            this.modelSeed = newModelSeed;
            this.trainingSeed = newTrainingSeed;
            return this;
        }

        /** The trainer's invocation count for this run. */
        public Builder invocationCount(int count) {
            this.invocationCount = count;
            return this;
        }

        /** Trainable (head included) and total parameter counts. */
        public Builder parameters(long newTrainable, long newTotal) {
            this.trainable = newTrainable;
            this.total = newTotal;
            return this;
        }

        /** AdaLoRA's kept-triplet masks by module (empty for other methods). */
        public Builder rankPattern(Map<String, boolean[]> pattern) {
            this.rankPattern = pattern;
            return this;
        }

        /** Examples trained on and examples held out for per-epoch validation. */
        public Builder examples(int train, int validation) {
            this.trainExamples = train;
            this.validationExamples = validation;
            return this;
        }

        /**
         * Settings the run chose itself from the data (for example the epochs raised to reach the minimum step
         * count, or the method's learning rate), by name, so that a reader sees what really ran.
         */
        public Builder resolvedSettings(Map<String, String> settings) {
            this.resolved = settings;
            return this;
        }

        /**
         * The cluster layout of a data-parallel run: its replicas, the examples of each shard in rank order, the
         * global batch and each replica's share of it; with the shards' data it is what a one-machine replay needs.
         */
        public Builder dataParallel(int workers, int[] shardSizes, int globalBatch, int localBatch) {
            Map<String, String> l = new java.util.LinkedHashMap<>();
            l.put("workers", Integer.toString(workers));
            l.put("shard-sizes", java.util.Arrays.toString(shardSizes));
            l.put("global-batch", Integer.toString(globalBatch));
            l.put("local-batch", Integer.toString(localBatch));
            this.layout = l;
            return this;
        }

        /** The record. */
        public TrainingRunProvenance build() {
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
            Map<String, StringProvenance> settings = new TreeMap<>();
            resolved.forEach((name, value) -> settings.put(name, new StringProvenance(name, value)));
            m.put(RESOLVED_SETTINGS, new MapProvenance<>(settings));
            m.put("engine", engine);
            if (!layout.isEmpty()) {
                Map<String, StringProvenance> l = new HashMap<>();
                layout.forEach((name, value) -> l.put(name, new StringProvenance(name, value)));
                m.put(DATA_PARALLEL, new MapProvenance<>(l));
            }
            return new TrainingRunProvenance(m);
        }
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

    /**
     * The settings the run resolved from the data, by name (empty for models trained before they were
     * recorded).
     */
    public Map<String, String> resolvedSettings() {
        Provenance p = fields().get(RESOLVED_SETTINGS);
        Map<String, String> out = new TreeMap<>();
        if (p instanceof MapProvenance<?> map) {
            map.getMap().forEach((k, v) -> out.put(k, ((StringProvenance) v).getValue()));
        }
        return out;
    }

    /**
     * The cluster layout of a data-parallel run (workers, shard-sizes, global-batch, local-batch); empty for a run
     * in one process.
     */
    public Map<String, String> dataParallel() {
        Provenance p = fields().get(DATA_PARALLEL);
        Map<String, String> out = new TreeMap<>();
        if (p instanceof MapProvenance<?> map) {
            map.getMap().forEach((k, v) -> out.put(k, ((StringProvenance) v).getValue()));
        }
        return out;
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
