package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.checkpoint.CheckpointSettings;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.train.ConsoleProgress;
import org.tribuopeft.adapters.train.DataParallel;
import org.tribuopeft.adapters.train.FineTuner;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.adapters.train.ProgressListener;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.adapters.train.TrainingConfig;
import org.tribuopeft.adapters.train.TrainingReport;
import org.tribuopeft.plugin.outputs.TaskOutputs;
import org.tribuopeft.provenance.BaseModelProvenance;
import org.tribuopeft.provenance.EngineProvenance;
import org.tribuopeft.provenance.RunProvenanceKeys;
import org.tribuopeft.provenance.TokenizerProvenance;
import org.tribuopeft.provenance.TrainingRunProvenance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One call of {@link AdapterTrainer#train}: splits off validation data, resolves the settings that depend on the
 * data (epochs raised to the minimum step count, the method's learning rate), fine-tunes, and wraps the result with
 * its provenance. Built from the trainer's immutable settings and the random stream of this invocation only.
 *
 * @param <T> the output type
 */
final class TrainingRun<T extends Output<T>> {
    private final TrainerSettings settings;
    private final Backbone base;
    private final int invocation;
    private final SplittableRandom rng;
    private DataParallel layout;
    private ProgressListener observer = ProgressListener.NONE;

    /**
     * @param settings the trainer's settings
     * @param base the loaded backbone
     * @param invocation the trainer's invocation count for this call
     * @param rng this call's random stream (split from the trainer's)
     */
    TrainingRun(TrainerSettings settings, Backbone base, int invocation, SplittableRandom rng) {
        this.settings = settings;
        this.base = base;
        this.invocation = invocation;
        this.rng = rng;
    }

    /** This run as one replica of a data-parallel run (see {@link AdapterTrainer#trainDataParallel}). */
    TrainingRun<T> dataParallel(DataParallel newLayout, ProgressListener newObserver) {
        checkDataParallel(settings, newLayout.workers());
        this.layout = newLayout;
        this.observer = newObserver;
        return this;
    }

    /** Fails, naming the setting, when {@code s} cannot train data-parallel on {@code workers} replicas. */
    static void checkDataParallel(TrainerSettings s, int workers) {
        if (s.validationFraction() != 0) {
            throw new IllegalArgumentException("validationFraction " + s.validationFraction() + " is not "
                    + "supported by data-parallel training (each replica holds only its shard); set it to 0 and "
                    + "evaluate the trained model on held-out data");
        }
        int[] shards = new int[workers];
        java.util.Arrays.fill(shards, 1);
        DataParallel.simulated(shards).localBatch(s.batchSize());
    }

    /** Epochs raised so that the run takes at least {@code minSteps} optimizer steps on {@code trainSize} examples. */
    static int resolvedEpochs(int epochs, int minSteps, int batchSize, int trainSize) {
        return resolvedEpochs(epochs, minSteps, (trainSize + batchSize - 1) / batchSize);
    }

    /** Epochs raised so that the run takes at least {@code minSteps} optimizer steps at {@code stepsPerEpoch}. */
    static int resolvedEpochs(int epochs, int minSteps, int stepsPerEpoch) {
        return Math.max(epochs, (minSteps + stepsPerEpoch - 1) / stepsPerEpoch);
    }

    /** The configured learning rate, or the method's own when it is 0. */
    static double resolvedLearningRate(TrainerSettings settings) {
        return settings.learningRate() > 0 ? settings.learningRate() : settings.method().defaultLearningRate();
    }

    AdapterModel<T> train(Dataset<T> examples, Map<String, Provenance> runProvenance,
                          TrainerProvenance trainerProvenance) {
        int threadSetting = TorchRuntime.configure(settings.threads());
        ImmutableOutputInfo<T> outputInfo = examples.getOutputIDInfo();
        TaskOutputs<T> outputs = TaskOutputs.forDomain(outputInfo);
        List<LabelledText> all = new ArrayList<>(examples.size());
        int index = 0;
        for (Example<T> e : examples) {
            all.add(new LabelledText(TextExamples.text(e, settings.textField(), index++),
                    outputs.target(e.getOutput(), outputInfo)));
        }
        long splitSeed = rng.nextLong();
        long modelSeed = rng.nextLong();
        long trainingSeed = rng.nextLong();
        List<List<LabelledText>> split = split(all, splitSeed);
        List<LabelledText> train = split.get(0);
        List<LabelledText> validation = split.get(1);
        int epochs = layout == null
                ? resolvedEpochs(settings.epochs(), settings.minSteps(), settings.batchSize(), train.size())
                : resolvedEpochs(settings.epochs(), settings.minSteps(), layout.stepsPerEpoch(settings.batchSize()));
        double learningRate = resolvedLearningRate(settings);
        TrainingConfig config = TrainingConfig.builder(trainingSeed).epochs(epochs).batchSize(settings.batchSize())
                .learningRate(learningRate).weightDecay(settings.weightDecay()).warmupRatio(settings.warmupRatio())
                .maxGradNorm(settings.maxGradNorm()).earlyStoppingPatience(settings.earlyStoppingPatience())
                .evalBatchSize(settings.evalBatchSize()).computePrecision(settings.precision()).build();
        TextModel model;
        try {
            model = TextModel.create(base, settings.quantization(), settings.method(), outputs.task(),
                    outputs.width(outputInfo), settings.maxLength(), new SplittableRandom(modelSeed));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TrainingReport report;
        try {
            if (!TrainerSettings.blank(settings.initialAdapter())) {
                new InitialAdapter(Paths.get(settings.initialAdapter()), settings.method()).loadInto(model, base,
                        outputInfo);
            }
            report = fineTuner(config).fit(model, train, validation);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        Map<String, String> resolved = new LinkedHashMap<>();
        resolved.put("epochs", Integer.toString(epochs));
        resolved.put("learning-rate", Double.toString(learningRate));
        resolved.putAll(model.adapted().hook().resolvedSettings());
        Map<String, Provenance> run = new HashMap<>(runProvenance);
        run.put(RunProvenanceKeys.BASE_MODEL, BaseModelProvenance.of(base));
        run.put(RunProvenanceKeys.TOKENIZER, TokenizerProvenance.of(base, settings.maxLength()));
        TrainingRunProvenance.Builder record = TrainingRunProvenance.builder(report,
                        EngineProvenance.current(threadSetting, model.manager().getDevice().toString()))
                .seeds(modelSeed, trainingSeed).invocationCount(invocation)
                .parameters(model.trainableParameterCount(), model.totalParameterCount())
                .rankPattern(model.rankMasks())
                .examples(layout == null ? train.size() : layout.totalExamples(), validation.size())
                .resolvedSettings(resolved);
        if (layout != null) {
            record.dataParallel(layout.workers(), layout.shardSizes(), settings.batchSize(),
                    layout.localBatch(settings.batchSize()));
        }
        run.put(RunProvenanceKeys.TRAINING_RUN, record.build());
        ModelProvenance provenance = new ModelProvenance(AdapterModel.class.getName(), OffsetDateTime.now(),
                examples.getProvenance(), trainerProvenance, run);
        BackboneReference reference = BackboneReference.of(base,
                BackboneSpec.tokenizerLocation(settings.backbone(), settings.tokenizer()));
        AdapterModel<T> trained = new AdapterModel<>("tribuo-peft-" + settings.method().descriptor().name(), provenance,
                examples.getFeatureIDMap(), outputInfo, new AdapterModel.Parts(reference, settings.method(),
                settings.quantization(), settings.maxLength(), settings.textField(), settings.evalBatchSize()), model.snapshot(), model);
        trained.attachTrainingReport(report);
        return trained;
    }

    /** The training and validation lists: a seeded shuffle holds out {@code validationFraction} of the data. */
    private List<List<LabelledText>> split(List<LabelledText> all, long splitSeed) {
        double fraction = settings.validationFraction();
        if (fraction == 0) {
            return List.of(all, List.of());
        }
        int[] order = FineTuner.permutation(all.size(), new SplittableRandom(splitSeed));
        int held = Math.max(1, (int) Math.round(all.size() * fraction));
        if (held >= all.size()) {
            throw new IllegalArgumentException("validationFraction " + fraction + " leaves no training data from "
                    + all.size() + " examples");
        }
        List<LabelledText> train = new ArrayList<>();
        List<LabelledText> validation = new ArrayList<>();
        for (int i = 0; i < order.length; i++) {
            (i < held ? validation : train).add(all.get(order[i]));
        }
        return List.of(train, validation);
    }

    private FineTuner fineTuner(TrainingConfig config) {
        ProgressListener listener = settings.progressSeconds() > 0
                ? new ConsoleProgress(System.err, settings.progressSeconds(),
                        "[" + settings.method().descriptor().name() + "]")
                : ProgressListener.NONE;
        FineTuner tuner = new FineTuner(config, observer == ProgressListener.NONE ? listener : both(listener, observer));
        if (layout != null) {
            tuner = tuner.withDataParallel(layout);
        }
        if (!TrainerSettings.blank(settings.checkpointDir())) {
            tuner = tuner.withCheckpoints(CheckpointSettings.in(perInvocation(settings.checkpointDir()),
                    settings.checkpointEverySteps(), settings.checkpointsKept()));
        }
        if (!TrainerSettings.blank(settings.resumeFrom())) {
            tuner = tuner.resumingFrom(perInvocation(settings.resumeFrom()));
        }
        return tuner;
    }

    /** A listener that tells {@code a}, then {@code b}. */
    private static ProgressListener both(ProgressListener a, ProgressListener b) {
        return new ProgressListener() {
            @Override
            public void onStep(org.tribuopeft.adapters.train.StepProgress progress) {
                a.onStep(progress);
                b.onStep(progress);
            }

            @Override
            public void onEpoch(org.tribuopeft.adapters.train.EpochResult result) {
                a.onEpoch(result);
                b.onEpoch(result);
            }

            @Override
            public void onEarlyStop(int epoch, int bestEpoch) {
                a.onEarlyStop(epoch, bestEpoch);
                b.onEarlyStop(epoch, bestEpoch);
            }
        };
    }

    /** The checkpoint folder of one train call: the folder itself first, then invocation-n subfolders. */
    private Path perInvocation(String dir) {
        Path folder = Paths.get(dir);
        return invocation == 0 ? folder : folder.resolve("invocation-" + invocation);
    }
}
