package org.tribuopeft.provenance.replay;

import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.property.SimpleProperty;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.BooleanProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.DoubleProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.FileProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.LongProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.URLProvenance;
import com.oracle.labs.mlrg.olcut.util.Pair;
import org.tribuo.DataSource;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Output;
import org.tribuo.Trainer;
import org.tribuo.evaluation.TrainTestSplitter;
import org.tribuo.provenance.DataProvenance;
import org.tribuo.provenance.DataSourceProvenance;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.SkeletalTrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.provenance.BaseModelProvenance;
import org.tribuopeft.provenance.RunProvenanceKeys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Re-runs a model from its provenance alone (what Tribuo's unpublished {@code ReproUtil} does, for our
 * models): the trainer and the data source are rebuilt from their recorded configuration with OLCUT,
 * the recorded data files and base model are re-hashed and must match, the trainer is set to the
 * recorded invocation count, and the retrained model is compared tensor by tensor and field by field.
 */
public final class ModelReplayer {
    /** Run-provenance keys that the trainer writes itself and so must not be passed back in. */
    private static final Set<String> TRAINER_WRITTEN_KEYS = Set.copyOf(RunProvenanceKeys.RESERVED);

    private ModelReplayer() {}

    /**
     * The result of a replay.
     *
     * @param replayed the model trained again
     * @param report the comparison
     */
    public record Result<T extends Output<T>>(Model<T> replayed, ReplayReport report) {}

    /**
     * Replays a model.
     *
     * @param original the model to reproduce
     * @param tensors how to read a model's trained tensors by name
     * @throws ReplayRefusedException when a recorded data file or the base model changed
     */
    public static <T extends Output<T>> Result<T> replay(Model<T> original,
                                                         Function<Model<T>, Map<String, HostTensor>> tensors) {
        ModelProvenance p = original.getProvenance();
        checkBaseModel(p);
        MutableDataset<T> data = rebuildDataset(p.getDatasetProvenance().getSourceProvenance());
        Trainer<T> trainer = rebuildTrainer(p);
        int invocation = ((IntProvenance) p.getTrainerProvenance().getInstanceValues()
                .get(SkeletalTrainerProvenance.TRAIN_INVOCATION_COUNT)).getValue();
        Map<String, Provenance> run = new HashMap<>(p.getInstanceProvenance().getMap());
        TRAINER_WRITTEN_KEYS.forEach(run::remove);
        Model<T> replayed = trainer.train(data, run, invocation);
        return new Result<>(replayed, compare(original, replayed, tensors));
    }

    /** Compares two models' tensors and provenance. */
    public static <T extends Output<T>> ReplayReport compare(Model<T> a, Model<T> b,
                                                             Function<Model<T>, Map<String, HostTensor>> tensors) {
        List<ReplayReport.TensorDiff> diffs = compareTensors(tensors.apply(a), tensors.apply(b));
        Map<String, String> fa = ProvenanceFlattener.flatten(a.getProvenance());
        Map<String, String> fb = ProvenanceFlattener.flatten(b.getProvenance());
        List<String> unexpected = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(fa.keySet());
        keys.addAll(fb.keySet());
        for (String k : keys) {
            String va = fa.get(k);
            String vb = fb.get(k);
            if (java.util.Objects.equals(va, vb)) {
                continue;
            }
            String line = k + ": " + va + " -> " + vb;
            (isVolatile(k) ? expected : unexpected).add(line);
        }
        return new ReplayReport(diffs, unexpected, expected);
    }

    /**
     * Compares two sets of trained tensors over the union of their names, so a tensor that only one side has
     * is a difference (infinite, with the side it is missing from) rather than silently left out.
     *
     * @param original the original model's tensors by name
     * @param replay the replayed model's tensors by name
     * @return one comparison per name, in name order
     */
    public static List<ReplayReport.TensorDiff> compareTensors(Map<String, HostTensor> original,
                                                               Map<String, HostTensor> replay) {
        TreeSet<String> names = new TreeSet<>(original.keySet());
        names.addAll(replay.keySet());
        List<ReplayReport.TensorDiff> diffs = new ArrayList<>();
        for (String name : names) {
            HostTensor x = original.get(name);
            HostTensor y = replay.get(name);
            if (x == null || y == null) {
                diffs.add(new ReplayReport.TensorDiff(name, Double.POSITIVE_INFINITY, false,
                        "missing in the " + (x == null ? "original" : "replay")));
            } else if (!java.util.Arrays.equals(x.shape(), y.shape())) {
                diffs.add(new ReplayReport.TensorDiff(name, Double.POSITIVE_INFINITY, false, "shape "
                        + java.util.Arrays.toString(x.shape()) + " in the original, " + java.util.Arrays.toString(y.shape())
                        + " in the replay"));
            } else {
                diffs.add(new ReplayReport.TensorDiff(name, x.maxAbsDiff(y), x.bitEquals(y), ""));
            }
        }
        return diffs;
    }

    /** Leaves that legitimately differ between two runs: timestamps and durations. */
    private static boolean isVolatile(String path) {
        String leaf = path.substring(path.lastIndexOf('.') + 1);
        return leaf.equals("trained-at") || leaf.endsWith("-time") || leaf.endsWith("seconds");
    }

    /**
     * AdapterTrainer settings added after models had already been saved, with the value that reproduces what the
     * versions before them did ({@code minSteps} 0: exactly {@code epochs} passes; {@code computePrecision} float32,
     * the only precision before it). A recorded configuration that
     * lacks one gets it, so that a model saved before the setting existed still replays bit for bit instead of
     * picking up the new default.
     */
    static final Map<String, String> ADAPTER_TRAINER_SETTINGS_ADDED_LATER = Map.of("minSteps", "0", "computePrecision",
            "float32");
    private static final String ADAPTER_TRAINER = "org.tribuopeft.plugin.AdapterTrainer";

    /** Adds {@link #ADAPTER_TRAINER_SETTINGS_ADDED_LATER} to every AdapterTrainer configuration that lacks them. */
    static List<ConfigurationData> withSettingsAddedLater(List<ConfigurationData> configs) {
        for (ConfigurationData c : configs) {
            if (c.getClassName().equals(ADAPTER_TRAINER)) {
                ADAPTER_TRAINER_SETTINGS_ADDED_LATER.forEach((name, value) -> {
                    if (!c.contains(name)) {
                        c.add(name, new SimpleProperty(value));
                    }
                });
            }
        }
        return configs;
    }

    @SuppressWarnings("unchecked")
    static <T extends Output<T>> Trainer<T> rebuildTrainer(ModelProvenance p) {
        List<ConfigurationData> configs = withSettingsAddedLater(
                ProvenanceUtil.extractConfiguration(p.getTrainerProvenance()));
        ConfigurationManager cm = new ConfigurationManager();
        cm.addConfiguration(configs);
        return (Trainer<T>) cm.lookup(configs.get(0).getName());
    }

    @SuppressWarnings("unchecked")
    static <T extends Output<T>> MutableDataset<T> rebuildDataset(DataProvenance source) {
        return new MutableDataset<>((DataSource<T>) rebuildSource(source));
    }

    private static DataSource<?> rebuildSource(DataProvenance source) {
        if (source instanceof TrainTestSplitter.SplitDataSourceProvenance split) {
            Map<String, Provenance> fields = fields(split);
            DataProvenance inner = (DataProvenance) fields.get("source");
            double proportion = ((DoubleProvenance) fields.get("train-proportion")).getValue();
            long seed = ((LongProvenance) fields.get("seed")).getValue();
            boolean isTrain = ((BooleanProvenance) fields.get("is-train")).getValue();
            @SuppressWarnings({"unchecked", "rawtypes"})
            TrainTestSplitter<?> splitter = new TrainTestSplitter((DataSource) rebuildSource(inner), proportion, seed);
            return isTrain ? splitter.getTrain() : splitter.getTest();
        }
        if (!(source instanceof com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance configured)) {
            throw new IllegalStateException("the training data came from " + source.getClassName()
                    + ", which is not configurable, so it cannot be rebuilt from provenance");
        }
        checkDataFile(configured);
        List<ConfigurationData> configs = ProvenanceUtil.extractConfiguration(configured);
        ConfigurationManager cm = new ConfigurationManager();
        cm.addConfiguration(configs);
        return (DataSource<?>) cm.lookup(configs.get(0).getName());
    }

    private static Map<String, Provenance> fields(ObjectProvenance p) {
        Map<String, Provenance> m = new HashMap<>();
        for (Pair<String, Provenance> pair : p) {
            m.put(pair.getA(), pair.getB());
        }
        return m;
    }

    /** Re-hashes the file a data source read (when it recorded one) and refuses if it changed. */
    static void checkDataFile(ObjectProvenance source) {
        Map<String, Provenance> f = fields(source);
        Provenance hash = f.get(DataSourceProvenance.RESOURCE_HASH);
        if (!(hash instanceof HashProvenance recorded)) {
            return;
        }
        Path file = null;
        for (Map.Entry<String, Provenance> e : f.entrySet()) {
            Provenance v = e.getValue();
            if (v instanceof FileProvenance fp) {
                file = fp.getValue().toPath();
            } else if (v instanceof URLProvenance up && "file".equals(up.getValue().getProtocol())) {
                try {
                    file = Paths.get(up.getValue().toURI());
                } catch (URISyntaxException ex) {
                    throw new IllegalStateException(ex);
                }
            } else if (v instanceof StringProvenance sp && (e.getKey().equals("data-file") || e.getKey().equals("dataPath"))) {
                file = Paths.get(sp.getValue());
            }
        }
        if (file == null) {
            return;
        }
        if (!Files.exists(file)) {
            throw new ReplayRefusedException("the training data file " + file + " recorded in the provenance no longer "
                    + "exists (recorded SHA-256 " + recorded.getValue() + ")");
        }
        String now = ProvenanceUtil.hashResource(recorded.getType(), file);
        if (!now.equalsIgnoreCase(recorded.getValue())) {
            throw new ReplayRefusedException("the training data file " + file + " has changed: recorded SHA-256 "
                    + recorded.getValue() + ", now " + now + "; replay would not reproduce the model");
        }
    }

    /** Re-hashes the base model's weight file and refuses if it changed. */
    static void checkBaseModel(ModelProvenance p) {
        Provenance base = p.getInstanceProvenance().getMap().get(RunProvenanceKeys.BASE_MODEL);
        if (!(base instanceof BaseModelProvenance b)) {
            return;
        }
        String now;
        try {
            if (b.kind().equals("BUNDLED")) {
                BundledModel m = BundledModel.byName(b.location()).orElseThrow(() -> new ReplayRefusedException(
                        "the recorded bundled model '" + b.location() + "' is unknown to this build"));
                now = Backbone.bundledWeightsSha256(m);
            } else {
                Path file = Paths.get(b.weightsFile());
                if (!Files.exists(file)) {
                    throw new ReplayRefusedException("the base model file " + file + " recorded in the provenance no "
                            + "longer exists (recorded SHA-256 " + b.weightsSha256() + ")");
                }
                now = Sha256.ofFile(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!now.equalsIgnoreCase(b.weightsSha256())) {
            throw new ReplayRefusedException("the base model file " + b.weightsFile() + " has changed: recorded SHA-256 "
                    + b.weightsSha256() + ", now " + now + "; replay would not reproduce the model");
        }
    }
}
