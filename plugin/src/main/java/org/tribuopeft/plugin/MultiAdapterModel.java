package org.tribuopeft.plugin;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.impl.ModelDataCarrier;
import org.tribuo.protos.core.ModelDataProto;
import org.tribuo.protos.core.ModelProto;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.impl.EmptyDatasetProvenance;
import org.tribuo.provenance.impl.EmptyTrainerProvenance;
import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;
import org.tribuopeft.adapters.mixed.SharedBase;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.protos.MultiAdapterModelProto;
import org.tribuopeft.plugin.protos.NamedAdapterProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Several named adapters over one pretrained base held once in memory: each example's metadata value
 * under {@code adapterKey} picks the adapter that predicts it.
 * Every adapter must share the base, the outputs, the task, the length and the pooling, and must leave
 * the base unchanged ({@link TextModel#baseChange}: LoRA, DoRA or AdaLoRA without trained biases, and no
 * PiSSA, whose set-up rewrites the base weights the others would predict on). Examples for different adapters are
 * predicted together in one forward pass per batch ({@link MixedBatchPredictor}): the base's matmuls run once over
 * every example, each adapter's own term over its examples only, with results equal to each adapter's own model
 * up to float rounding (within 1e-6).
 *
 * @param <T> the output type
 */
public final class MultiAdapterModel<T extends Output<T>> extends TextPredictingModel<T> implements AutoCloseable {
    private static final long serialVersionUID = 1L;

    /** The protobuf format version this class writes. */
    public static final int CURRENT_VERSION = 0;

    private final transient Map<String, AdapterModel<T>> adapters;
    private final String adapterKey;
    private transient Live live;

    private static final int BATCH = 64;

    private MultiAdapterModel(String name, ModelProvenance provenance, ImmutableFeatureMap features,
                              ImmutableOutputInfo<T> info, Map<String, AdapterModel<T>> adapters, String adapterKey) {
        super(name, provenance, features, info);
        this.adapters = Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
        this.adapterKey = adapterKey;
    }

    /**
     * Combines trained adapter models.
     *
     * @param name the model's name
     * @param adapters adapter name to model
     * @param adapterKey the example metadata key naming each example's adapter
     * @throws IllegalArgumentException when the models cannot share one base
     */
    public static <T extends Output<T>> MultiAdapterModel<T> of(String name, Map<String, AdapterModel<T>> adapters,
                                                                String adapterKey) {
        if (adapters.isEmpty()) {
            throw new IllegalArgumentException("no adapters given");
        }
        AdapterModel<T> first = adapters.values().iterator().next();
        Map<String, Provenance> run = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterModel<T>> e : adapters.entrySet()) {
            check(e.getKey(), e.getValue(), first);
            run.put("adapter." + e.getKey(), e.getValue().getProvenance());
        }
        ModelProvenance provenance = new ModelProvenance(MultiAdapterModel.class.getName(), OffsetDateTime.now(),
                new EmptyDatasetProvenance(), new EmptyTrainerProvenance(), run);
        return new MultiAdapterModel<>(name, provenance, first.getFeatureIDMap(), first.getOutputIDInfo(), adapters,
                adapterKey);
    }

    private static <T extends Output<T>> void check(String name, AdapterModel<T> m, AdapterModel<T> first) {
        String why = m.mismatchWith(first);
        if (why == null && !m.textField().equals(first.textField())) {
            why = "reads its text from a different metadata key";
        } else if (why == null) {
            why = TextModel.baseChange(m.method()).orElse(null);
        }
        if (why != null) {
            throw new IllegalArgumentException("adapter '" + name + "' " + why + "; adapters sharing one base must "
                    + "agree on base, outputs, length, text field and pooling, and leave the base unchanged (serve this "
                    + "model on its own; a PiSSA adapter exported as a PEFT folder is plain LoRA and can be imported "
                    + "to share)");
        }
    }

    /** The adapters by name. */
    public Map<String, AdapterModel<T>> adapters() {
        return adapters;
    }

    /** The metadata key that names each example's adapter. */
    public String adapterKey() {
        return adapterKey;
    }

    private synchronized Live live() {
        if (live == null) {
            AdapterModel<T> first = adapters.values().iterator().next();
            SharedBase base = SharedBase.of(first.backboneReference().load(first.quantization()), first.quantization());
            Map<String, TextModel> m = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, AdapterModel<T>> e : adapters.entrySet()) {
                    AdapterModel<T> a = e.getValue();
                    TextModel tm = base.adapterModel(a.method(), a.task(), outputs.width(outputIDInfo), a.maxLength(),
                            new SplittableRandom(0));
                    m.put(e.getKey(), tm);
                    tm.restore(new TextModel.Snapshot(a.trainedTensors(), a.rankMasks()));
                }
            } catch (IOException | RuntimeException ex) {
                m.values().forEach(TextModel::close);
                base.close();
                throw ex instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) ex;
            }
            live = new Live(base, m, new MixedBatchPredictor(base));
        }
        return live;
    }

    /** The native side: the base held once, one model per adapter on it, and the mixed-batch predictor. */
    private record Live(SharedBase base, Map<String, TextModel> models, MixedBatchPredictor predictor) {}

    /**
     * Predicts in mixed-adapter batches of up to 64 examples: one forward pass over the base for all of
     * a batch's examples, each adapter's low-rank term over its own examples only (adapters whose method cannot mix,
     * such as prompt tuning, run as a batch of their own).
     */
    @Override
    protected synchronized List<Prediction<T>> innerPredict(Iterable<Example<T>> examples) {
        List<Example<T>> list = new ArrayList<>();
        examples.forEach(list::add);
        List<String> names = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i).getMetadataValue(adapterKey).orElse(null);
            if (!(v instanceof String s) || !adapters.containsKey(s)) {
                throw new IllegalArgumentException("example " + i + " names adapter " + v + " in metadata '" + adapterKey
                        + "'; this model has " + adapters.keySet());
            }
            names.add(s);
        }
        String textField = adapters.values().iterator().next().textField();
        List<Prediction<T>> out = new ArrayList<>(list.size());
        // autograd is per thread in PyTorch and on in threads that did not start the engine: building and
        // restoring the adapters there would fail on their first in-place copy
        try (NoGradientScope noGrad = new NoGradientScope()) {
            Live l = live();
            for (int start = 0; start < list.size(); start += BATCH) {
                int end = Math.min(list.size(), start + BATCH);
                List<MixedBatchPredictor.Row> rows = new ArrayList<>();
                for (int i = start; i < end; i++) {
                    rows.add(new MixedBatchPredictor.Row(l.models().get(names.get(i)),
                            TextExamples.text(list.get(i), textField, i)));
                }
                float[][] scores = l.predictor().predict(rows, MixedBatchPredictor.Batching.MIXED);
                for (int i = start; i < end; i++) {
                    out.add(outputs.prediction(scores[i - start], outputIDInfo, list.get(i)));
                }
            }
        }
        return out;
    }

    @Override
    protected MultiAdapterModel<T> copy(String newName, ModelProvenance newProvenance) {
        return new MultiAdapterModel<>(newName, newProvenance, featureIDMap, outputIDInfo, adapters, adapterKey);
    }

    @Override
    public ModelProto serialize() {
        MultiAdapterModelProto.Builder b = MultiAdapterModelProto.newBuilder()
                .setMetadata(createDataCarrier().serialize().toByteString()).setAdapterKey(adapterKey);
        adapters.forEach((n, m) -> b.addAdapters(NamedAdapterProto.newBuilder().setName(n)
                .setModel(ByteString.copyFrom(m.serialize().toByteArray()))));
        return ModelProto.newBuilder().setVersion(CURRENT_VERSION).setClassName(MultiAdapterModel.class.getName())
                .setSerializedData(Any.pack(b.build())).build();
    }

    /** Rebuilds a model from its protobuf form (called by Tribuo's {@code Model.deserialize}). */
    public static MultiAdapterModel<?> deserializeFromProto(int version, String className, Any message)
            throws InvalidProtocolBufferException {
        if (version < 0 || version > CURRENT_VERSION) {
            throw new IllegalArgumentException("unknown MultiAdapterModel version " + version);
        }
        MultiAdapterModelProto p = message.unpack(MultiAdapterModelProto.class);
        ModelDataCarrier<?> carrier = ModelDataCarrier.deserialize(ModelDataProto.parseFrom(p.getMetadata()));
        return build(carrier, p);
    }

    @SuppressWarnings("unchecked")
    private static <U extends Output<U>> MultiAdapterModel<U> build(ModelDataCarrier<U> c, MultiAdapterModelProto p)
            throws InvalidProtocolBufferException {
        Map<String, AdapterModel<U>> adapters = new LinkedHashMap<>();
        for (NamedAdapterProto a : p.getAdaptersList()) {
            adapters.put(a.getName(), (AdapterModel<U>) Model.deserialize(ModelProto.parseFrom(a.getModel())));
        }
        adapters.forEach((n, m) -> check(n, m, adapters.values().iterator().next()));
        return new MultiAdapterModel<>(c.name(), c.provenance(), c.featureDomain(), c.outputDomain(), adapters,
                p.getAdapterKey());
    }

    /** Frees the shared native model. */
    @Override
    public synchronized void close() {
        if (live != null) {
            live.models().values().forEach(TextModel::close);
            live.base().close(); // the shared base closes last
            live = null;
        }
    }

}
