package org.tribuopeft.plugin;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.oracle.labs.mlrg.olcut.config.ConfigurationData;
import com.oracle.labs.mlrg.olcut.config.ConfigurationManager;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
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
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.engine.NoGradientScope;
import org.tribuopeft.adapters.io.FiniteTensors;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.method.MethodDescriptor;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.outputs.TaskOutputs;
import org.tribuopeft.plugin.protos.AdapterModelProto;
import org.tribuopeft.plugin.protos.RankMaskProto;
import org.tribuopeft.plugin.protos.TensorProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A fine-tuned transformer as a Tribuo model. It holds the trained tensors (adapter, any unfrozen
 * base parameters, and the head) and a checksummed reference to the pretrained base; the native
 * model is rebuilt from those on first use. Serialized with protobuf only ({@link #serialize()}),
 * never with Java serialization. Close it (or let it be garbage-collected) to free native memory.
 * <p>
 * A saved model carries a SHA-256 over its contents ({@link ModelContentDigest}); loading refuses a file whose
 * contents no longer match it, or whose tensors hold NaN or infinity, with a {@link CorruptModelException}.
 * Files saved before checksums existed (format version 0) still load, with a one-time note on stderr.
 *
 * @param <T> the output type
 */
public final class AdapterModel<T extends Output<T>> extends TextPredictingModel<T> implements AutoCloseable {
    private static final long serialVersionUID = 1L;

    /** The protobuf format version this class writes; version 1 added the content checksum. */
    public static final int CURRENT_VERSION = 1;

    /** Set once the note about an unverifiable version-0 file has been printed, so it is printed once per JVM. */
    static final AtomicBoolean UNVERIFIED_NOTE_PRINTED = new AtomicBoolean();

    /** Protobuf messages are limited to 2 GiB; we stop well before. */
    static final long MAX_INLINE_BYTES = 1_800_000_000L;

    private final transient BackboneReference backboneReference;
    private final transient AdapterMethod method;
    private final transient BaseQuantization quantization;
    private final int maxLength;
    private final String textField;
    private final int predictBatchSize;
    private final transient TextModel.Snapshot trained;
    private transient TextModel live;
    private transient org.tribuopeft.adapters.train.TrainingReport trainingReport;

    /**
     * What a model needs besides Tribuo's own parts and its tensors to rebuild and run its network.
     *
     * @param backboneReference the checksummed base model
     * @param method the fine-tuning method the tensors belong to
     * @param quantization how the base's Linear weights are stored, or null for float32
     * @param maxLength tokens per text
     * @param textField the metadata key predictions read text from
     * @param predictBatchSize examples per batch when predicting
     */
    record Parts(BackboneReference backboneReference, AdapterMethod method, BaseQuantization quantization,
                 int maxLength, String textField, int predictBatchSize) { }

    AdapterModel(String name, ModelProvenance provenance, ImmutableFeatureMap featureIDMap,
                 ImmutableOutputInfo<T> outputIDInfo, Parts parts, TextModel.Snapshot trained, TextModel live) {
        super(name, provenance, featureIDMap, outputIDInfo);
        this.backboneReference = parts.backboneReference();
        this.method = parts.method();
        this.quantization = parts.quantization();
        this.maxLength = parts.maxLength();
        this.textField = parts.textField();
        this.predictBatchSize = parts.predictBatchSize();
        this.trained = trained;
        this.live = live;
    }

    /**
     * What the training run did, step by step (per-step losses included), on a model trained in this JVM; empty on a
     * loaded model, whose provenance keeps only the per-epoch figures.
     */
    public java.util.Optional<org.tribuopeft.adapters.train.TrainingReport> trainingReport() {
        return java.util.Optional.ofNullable(trainingReport);
    }

    /** Attaches the report of the run that just trained this model. */
    void attachTrainingReport(org.tribuopeft.adapters.train.TrainingReport report) {
        this.trainingReport = report;
    }

    /** The base model reference (location and checksums). */
    public BackboneReference backboneReference() {
        return backboneReference;
    }

    /** How the base's Linear weights are stored (as they were while training), or null for a float32 base. */
    public BaseQuantization quantization() {
        return quantization;
    }

    /** The fine-tuning method this model was trained with. */
    public AdapterMethod method() {
        return method;
    }

    /**
     * Why this model cannot share one pretrained base and one input pipeline with {@code other} (a different
     * base, outputs, maximum length or pooling), or null when it can.
     */
    String mismatchWith(AdapterModel<T> other) {
        if (!backboneReference.weightsSha256().equals(other.backboneReference.weightsSha256())) {
            return "is trained on a different base model";
        }
        if (!HeadOutputs.names(outputIDInfo).equals(HeadOutputs.names(other.outputIDInfo)) || task() != other.task()) {
            return "has different outputs";
        }
        if (maxLength != other.maxLength || backboneReference.pooling() != other.backboneReference.pooling()) {
            return "has a different maximum length or pooling";
        }
        if (!java.util.Objects.equals(quantization, other.quantization)) {
            return "was trained on a base stored differently (quantization " + (quantization == null ? "none"
                    : quantization) + " vs " + (other.quantization == null ? "none" : other.quantization) + ")";
        }
        return null;
    }

    /** The output names in the order of the head's rows (class labels, label names or regression dimensions). */
    public List<String> outputNames() {
        return HeadOutputs.names(outputIDInfo);
    }

    /** The metadata key predictions read text from. */
    public String textField() {
        return textField;
    }

    /** Tokens per text. */
    public int maxLength() {
        return maxLength;
    }

    /** The trained tensors by full name (a read-only view). */
    public Map<String, HostTensor> trainedTensors() {
        return Collections.unmodifiableMap(trained.values());
    }

    /** AdaLoRA's kept-triplet masks by module (empty for other methods). */
    public Map<String, boolean[]> rankMasks() {
        return Collections.unmodifiableMap(trained.rankMasks());
    }

    /**
     * The native model, built on first use from the base and the trained tensors. Shared by this
     * model's predictions; do not close it yourself.
     */
    public synchronized TextModel textModel() {
        if (live == null) {
            Backbone base = backboneReference.load(quantization);
            try (NoGradientScope noGrad = new NoGradientScope()) {
                live = TextModel.create(base, quantization, method, outputs.task(), outputs.width(outputIDInfo), maxLength,
                        new SplittableRandom(0));
                live.restore(trained);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return live;
    }

    @Override
    protected synchronized List<Prediction<T>> innerPredict(Iterable<Example<T>> examples) {
        List<Example<T>> list = new ArrayList<>();
        examples.forEach(list::add);
        List<String> texts = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            texts.add(TextExamples.text(list.get(i), textField, i));
        }
        float[][] rows;
        try (NoGradientScope noGrad = new NoGradientScope()) {
            rows = textModel().predict(texts, predictBatchSize);
        }
        List<Prediction<T>> out = new ArrayList<>(rows.length);
        for (int i = 0; i < rows.length; i++) {
            out.add(outputs.prediction(rows[i], outputIDInfo, list.get(i)));
        }
        return out;
    }

    @Override
    protected AdapterModel<T> copy(String newName, ModelProvenance newProvenance) {
        return new AdapterModel<>(newName, newProvenance, featureIDMap, outputIDInfo,
                new Parts(backboneReference, method, quantization, maxLength, textField, predictBatchSize), trained, null);
    }

    /** Frees the native model; it is rebuilt if the model is used again. */
    @Override
    public synchronized void close() {
        if (live != null) {
            live.close();
            live = null;
        }
    }

    @Override
    public ModelProto serialize() {
        ModelDataCarrier<T> carrier = createDataCarrier();
        AdapterModelProto.Builder b = AdapterModelProto.newBuilder()
                .setMetadata(carrier.serialize().toByteString())
                .setBackbone(backboneReference.toProto())
                .setMethodProvenanceJson(new JsonProvenanceSerialization(false).marshalAndSerialize(method.getProvenance()))
                .setTask(outputs.task().name())
                .setOutputs(outputs.width(outputIDInfo))
                .setMaxLength(maxLength)
                .setTextField(textField)
                .setPredictBatchSize(predictBatchSize);
        if (quantization != null) {
            b.setQuantizationProvenanceJson(new JsonProvenanceSerialization(false)
                    .marshalAndSerialize(quantization.getProvenance()));
        }
        long bytes = 0;
        for (Map.Entry<String, HostTensor> e : trained.values().entrySet()) {
            bytes += 4L * e.getValue().data().length;
            if (bytes > MAX_INLINE_BYTES) {
                throw new IllegalStateException("the trained tensors exceed " + MAX_INLINE_BYTES + " bytes, beyond what a "
                        + "protobuf message can hold; for a full fine-tune of this size save the encoder as a Hugging "
                        + "Face folder and train adapters on it instead");
            }
            b.addTensors(tensorProto(e.getKey(), e.getValue()));
        }
        trained.rankMasks().forEach((module, mask) -> {
            RankMaskProto.Builder r = RankMaskProto.newBuilder().setModule(module);
            for (boolean k : mask) {
                r.addKept(k);
            }
            b.addRankMasks(r);
        });
        b.setContentSha256(ModelContentDigest.of(b.build()));
        return ModelProto.newBuilder().setVersion(CURRENT_VERSION).setClassName(AdapterModel.class.getName())
                .setSerializedData(Any.pack(b.build())).build();
    }

    static TensorProto tensorProto(String name, HostTensor t) {
        ByteBuffer buf = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(t.data());
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setData(ByteString.copyFrom(buf.array()));
        for (long d : t.shape()) {
            b.addShape(d);
        }
        return b.build();
    }

    /** Decodes a stored tensor, refusing one whose byte count does not fit its shape or that is not finite. */
    static HostTensor hostTensor(TensorProto p) {
        long[] shape = p.getShapeList().stream().mapToLong(Long::longValue).toArray();
        long bytes;
        try {
            bytes = Math.multiplyExact(4L, HostTensor.elementCount(shape));
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new CorruptModelException("tensor '" + p.getName() + "' has an impossible shape " + p.getShapeList()
                    + "; the file is corrupted: use an intact copy or train again");
        }
        if (p.getData().size() != bytes) {
            throw new CorruptModelException("tensor '" + p.getName() + "' has " + p.getData().size() + " bytes but its "
                    + "shape " + p.getShapeList() + " needs " + bytes + "; the file is corrupted: use an intact copy or "
                    + "train again");
        }
        float[] v = new float[(int) (bytes / 4)];
        p.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        HostTensor t = new HostTensor(shape, v);
        String problem = FiniteTensors.problem(p.getName(), t);
        if (problem != null) {
            throw new CorruptModelException(problem);
        }
        return t;
    }

    /**
     * Rebuilds a model from its protobuf form (called by Tribuo's {@code Model.deserialize}). The tensors are
     * checked to be finite and the content checksum verified before anything is interpreted; then the base
     * model is located and its checksums verified; see {@link BackboneReference} for overrides.
     *
     * @throws CorruptModelException when the contents are damaged or were edited after saving
     * @throws BaseModelMismatchException when the base model is missing or differs
     */
    public static AdapterModel<?> deserializeFromProto(int version, String className, Any message) {
        if (version < 0 || version > CURRENT_VERSION) {
            throw new CorruptModelException("the file records AdapterModel format version " + version + ", but this "
                    + "build reads versions 0 to " + CURRENT_VERSION + ": it was saved by a newer tribuo-peft (load it "
                    + "with that version) or the file is corrupted");
        }
        AdapterModelProto p;
        try {
            p = message.unpack(AdapterModelProto.class);
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptModelException("the AdapterModel data cannot be parsed (" + e.getMessage() + "); the file "
                    + "is corrupted: use an intact copy or train again", e);
        }
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (TensorProto t : p.getTensorsList()) {
            tensors.put(t.getName(), hostTensor(t));
        }
        verifyContent(version, p);
        ModelDataCarrier<?> carrier;
        try {
            carrier = ModelDataCarrier.deserialize(ModelDataProto.parseFrom(p.getMetadata()));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new CorruptModelException("Tribuo's model metadata (outputs, provenance) cannot be read (" + e
                    + "); the file is corrupted: use an intact copy or train again", e);
        }
        return build(carrier, p, tensors);
    }

    /** Checks the recorded content checksum; version-0 files have none and load unverified. */
    private static void verifyContent(int version, AdapterModelProto p) {
        String recorded = p.getContentSha256();
        if (recorded.isEmpty()) {
            if (version >= 1) {
                throw new CorruptModelException("the file records no content checksum, which every AdapterModel of "
                        + "format version " + version + " has: it was modified or corrupted after it was saved; use "
                        + "an intact copy or train again");
            }
            if (UNVERIFIED_NOTE_PRINTED.compareAndSet(false, true)) {
                System.err.println("NOTE: this model was saved by an older tribuo-peft (format version 0) without a "
                        + "content checksum, so its weights and settings cannot be verified; save it again "
                        + "(Model.serializeToFile) to add one");
            }
            return;
        }
        String actual = ModelContentDigest.of(p);
        if (!actual.equals(recorded)) {
            throw new CorruptModelException("its contents (trained tensors, method settings, outputs, base reference) "
                    + "have SHA-256 " + actual + " but were saved with SHA-256 " + recorded + ": the file was modified "
                    + "or corrupted after it was saved; use an intact copy or train again");
        }
    }

    private static <U extends Output<U>> AdapterModel<U> build(ModelDataCarrier<U> carrier, AdapterModelProto p,
                                                               Map<String, HostTensor> tensors) {
        ImmutableOutputInfo<U> info = carrier.outputDomain();
        AdapterMethod method;
        BaseQuantization quantization;
        BackboneReference ref;
        try {
            TaskOutputs<U> outs = TaskOutputs.forDomain(info);
            if (!outs.task().name().equals(p.getTask()) || outs.width(info) != p.getOutputs()) {
                throw new IllegalStateException("serialized task " + p.getTask() + " with " + p.getOutputs()
                        + " outputs does not match the output domain (" + outs.task() + ", " + outs.width(info) + ")");
            }
            method = methodFromJson(p.getMethodProvenanceJson());
            quantization = p.getQuantizationProvenanceJson().isEmpty() ? null
                    : componentFromJson(p.getQuantizationProvenanceJson(), BaseQuantization.class, "quantization");
            ref = BackboneReference.fromProto(p.getBackbone());
        } catch (RuntimeException e) {
            // a verified file reaches this only when it came from a build with other methods or settings
            throw new CorruptModelException("the model's settings cannot be interpreted (" + e.getMessage() + "): the "
                    + "file is corrupted (use an intact copy or train again), or was saved by a tribuo-peft version "
                    + "with settings this one does not know (load it with that version)", e);
        }
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        for (RankMaskProto r : p.getRankMasksList()) {
            boolean[] kept = new boolean[r.getKeptCount()];
            for (int i = 0; i < kept.length; i++) {
                kept[i] = r.getKept(i);
            }
            masks.put(r.getModule(), kept);
        }
        ref.load();
        return new AdapterModel<>(carrier.name(), carrier.provenance(), carrier.featureDomain(), info,
                new Parts(ref, method, quantization, p.getMaxLength(), p.getTextField(), p.getPredictBatchSize()),
                new TextModel.Snapshot(tensors, masks), null);
    }

    /** Recreates a method component from its OLCUT provenance in JSON. */
    static AdapterMethod methodFromJson(String json) {
        return componentFromJson(json, AdapterMethod.class, "method");
    }

    /** Recreates a configured component of the given type from its OLCUT provenance in JSON. */
    static <C> C componentFromJson(String json, Class<C> type, String what) {
        ObjectProvenance prov;
        try {
            prov = new JsonProvenanceSerialization(false).deserializeAndUnmarshal(json);
        } catch (com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException e) {
            throw new IllegalStateException("the stored " + what + " configuration is not readable: "
                    + e.getMessage(), e);
        }
        if (!(prov instanceof ConfiguredObjectProvenance cop)) {
            throw new IllegalStateException("the stored " + what + " is not a configured object: "
                    + prov.getClassName());
        }
        List<ConfigurationData> configs = ProvenanceUtil.extractConfiguration(cop);
        ConfigurationManager cm = new ConfigurationManager();
        cm.addConfiguration(configs);
        Object m = cm.lookup(configs.get(0).getName());
        if (!type.isInstance(m)) {
            throw new IllegalStateException("the stored " + what + " " + configs.get(0).getClassName()
                    + " is not a " + type.getSimpleName());
        }
        return type.cast(m);
    }

    /** The task of this model's head. */
    public TaskKind task() {
        return outputs.task();
    }

    /** The method's registration (name, file formats, export forms). */
    public MethodDescriptor methodDescriptor() {
        return method.descriptor();
    }
}
