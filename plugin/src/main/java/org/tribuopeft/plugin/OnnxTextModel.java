package org.tribuopeft.plugin;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtLoraAdapter;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Model;
import org.tribuo.MutableFeatureMap;
import org.tribuo.ONNXExportable;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.impl.ModelDataCarrier;
import org.tribuo.protos.core.ModelDataProto;
import org.tribuo.protos.core.ModelProto;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.impl.EmptyDatasetProvenance;
import org.tribuo.provenance.impl.EmptyTrainerProvenance;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.OnnxRuntimeVersion;
import org.tribuopeft.adapters.export.OnnxExporter;
import org.tribuopeft.adapters.export.WeightFormat;
import org.tribuopeft.adapters.export.WeightFormatException;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.plugin.protos.OnnxTextModelProto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Tribuo model that runs an exported text model in ONNX Runtime: a merged ONNX file (float32, or with
 * int8/int4 Linear weights for ONNX Runtime's {@code MatMulNBits}, see {@link #weightFormat()}), or a base
 * file with adapter inputs plus an {@code .onnx_adapter}. Everything it needs (tokenizer, outputs, task,
 * length) is read from the ONNX file's metadata. Asked for CUDA, it uses ONNX Runtime's CUDA execution
 * provider when the runtime and driver support it, and otherwise says so on standard error and runs
 * on the CPU. Serialized with protobuf, model bytes inline.
 *
 * @param <T> the output type
 */
public final class OnnxTextModel<T extends Output<T>> extends TextPredictingModel<T> implements AutoCloseable {
    private static final long serialVersionUID = 1L;

    /** The protobuf format version this class writes. */
    public static final int CURRENT_VERSION = 0;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final transient byte[] onnx;
    private final transient byte[] adapter;
    private final boolean preferCuda;
    private final int maxLength;
    private final String textField;
    private final String tokenizerJson;
    private final WeightFormat weightFormat;
    private transient OrtSession session;
    private transient OrtLoraAdapter loraAdapter;
    private transient TextTokenizer tokenizer;
    private transient String device;

    private OnnxTextModel(String name, ModelProvenance provenance, ImmutableFeatureMap features,
                          ImmutableOutputInfo<T> info, byte[] onnx, byte[] adapter, boolean preferCuda,
                          Map<String, String> metadata) {
        super(name, provenance, features, info);
        this.onnx = onnx;
        this.adapter = adapter;
        this.preferCuda = preferCuda;
        this.maxLength = Integer.parseInt(metadata.get(OnnxExports.PREFIX + "max_length"));
        this.textField = metadata.get(OnnxExports.PREFIX + "text_field");
        this.tokenizerJson = metadata.get(OnnxExports.PREFIX + "tokenizer");
        this.weightFormat = WeightFormat.parse(metadata.getOrDefault(OnnxExporter.WEIGHT_FORMAT_KEY, "float32"));
    }

    /**
     * How the file stores the encoder's Linear weights: float32, or int8/int4 for ONNX Runtime's
     * {@code MatMulNBits} (from the {@code tribuo_peft.weight_format} metadata; files written before it
     * existed are float32).
     */
    public WeightFormat weightFormat() {
        return weightFormat;
    }

    /**
     * Loads an exported model.
     *
     * @param onnxFile the .onnx file written by {@link OnnxExports}
     * @param adapterFile an .onnx_adapter for a base exported with adapter inputs, or null
     * @param preferCuda use the CUDA execution provider when available
     * @throws ModelFileException when the file is not an export of this library
     */
    public static <T extends Output<T>> OnnxTextModel<T> load(Path onnxFile, Path adapterFile, boolean preferCuda)
            throws IOException {
        byte[] onnx = Files.readAllBytes(onnxFile);
        byte[] adapter = adapterFile == null ? null : Files.readAllBytes(adapterFile);
        Map<String, String> meta = readMetadata(onnx, onnxFile.toString());
        String form = meta.get(OnnxExports.PREFIX + "form");
        if ("adapter-inputs".equals(form) && adapter == null) {
            System.err.println("NOTE: " + onnxFile + " is a base with adapter inputs and no adapter was given; it "
                    + "predicts with the base encoder and a zero head");
        }
        Map<String, Provenance> run = new HashMap<>();
        run.put("tribuo-peft.onnx-sha256", new HashProvenance(ProvenanceUtil.HashType.SHA256, "tribuo-peft.onnx-sha256",
                Sha256.of(onnx)));
        if (adapter != null) {
            run.put("tribuo-peft.onnx-adapter-sha256", new HashProvenance(ProvenanceUtil.HashType.SHA256,
                    "tribuo-peft.onnx-adapter-sha256", Sha256.of(adapter)));
        }
        ModelProvenance recorded = null;
        String p = meta.get(ONNXExportable.PROVENANCE_METADATA_FIELD);
        if (p != null && adapter == null) {
            try {
                recorded = (ModelProvenance) ONNXExportable.SERIALIZER.deserializeAndUnmarshal(p);
            } catch (com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException e) {
                throw new ModelFileException(onnxFile, "has unreadable TRIBUO_PROVENANCE metadata: " + e.getMessage(), e);
            }
            run.putAll(recorded.getInstanceProvenance().getMap());
        }
        ModelProvenance provenance = new ModelProvenance(OnnxTextModel.class.getName(), OffsetDateTime.now(),
                recorded == null ? new EmptyDatasetProvenance() : recorded.getDatasetProvenance(),
                recorded == null ? new EmptyTrainerProvenance() : recorded.getTrainerProvenance(), run);
        List<String> names = new ArrayList<>();
        JSON.readTree(meta.get(OnnxExports.PREFIX + "outputs")).forEach(n -> names.add(n.asText()));
        ImmutableOutputInfo<T> info = HeadOutputs.domain(TaskKind.valueOf(meta.get(OnnxExports.PREFIX + "task")), names);
        MutableFeatureMap features = new MutableFeatureMap();
        features.add(TextPresenceProcessor.FEATURE, 1.0);
        return new OnnxTextModel<>("onnx-" + onnxFile.getFileName(), provenance, new ImmutableFeatureMap(features), info,
                onnx, adapter, preferCuda, meta);
    }

    private static Map<String, String> readMetadata(byte[] onnx, String source) throws ModelFileException {
        ai.onnx.proto.OnnxMl.ModelProto proto;
        try {
            com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(onnx);
            in.setSizeLimit(Integer.MAX_VALUE);
            proto = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new ModelFileException(source, "is not a readable ONNX model: " + e.getMessage(), e);
        }
        Map<String, String> meta = new HashMap<>();
        proto.getMetadataPropsList().forEach(e -> meta.put(e.getKey(), e.getValue()));
        for (String k : OnnxExports.keys()) {
            if (!meta.containsKey(OnnxExports.PREFIX + k)) {
                throw new ModelFileException(source, "has no '" + OnnxExports.PREFIX + k + "' metadata; export it with "
                        + "tribuo-peft (OnnxExports or the export-onnx command)");
            }
        }
        String format = meta.get(OnnxExporter.WEIGHT_FORMAT_KEY);
        if (format != null) {
            try {
                WeightFormat.parse(format);
            } catch (WeightFormatException e) {
                throw new ModelFileException(source, "has unreadable '" + OnnxExporter.WEIGHT_FORMAT_KEY
                        + "' metadata: " + e.getMessage() + "; export it again with tribuo-peft", e);
            }
        }
        return meta;
    }

    /** The device the session runs on: {@code cuda:0} or {@code cpu}. */
    public synchronized String device() {
        ensureSession();
        return device;
    }

    private synchronized void ensureSession() {
        if (session != null) {
            return;
        }
        OnnxRuntimeVersion.requireSupported();
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                // adapter inputs are initializers that double as graph inputs on purpose; ORT warns about each
                opts.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
                device = "cpu";
                if (preferCuda) {
                    try {
                        opts.addCUDA(0);
                        device = "cuda:0";
                    } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                        System.err.println("NOTE: the CUDA execution provider is not available (" + e.getMessage()
                                + "); running on the CPU");
                    }
                }
                session = env.createSession(onnx, opts);
            }
            if (adapter != null) {
                loraAdapter = OrtLoraAdapter.create(adapter);
            }
            tokenizer = TextTokenizer.fromJson(tokenizerJson.getBytes(StandardCharsets.UTF_8), maxLength,
                    "ONNX metadata tokenizer");
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not load the model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected synchronized List<Prediction<T>> innerPredict(Iterable<Example<T>> examples) {
        ensureSession();
        List<Example<T>> list = new ArrayList<>();
        examples.forEach(list::add);
        List<Prediction<T>> out = new ArrayList<>(list.size());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (int start = 0; start < list.size(); start += 64) {
            List<Example<T>> chunk = list.subList(start, Math.min(list.size(), start + 64));
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < chunk.size(); i++) {
                texts.add(TextExamples.text(chunk.get(i), textField, start + i));
            }
            TokenBatch batch = tokenizer.encode(texts);
            try (OnnxTensor ids = OnnxTensor.createTensor(env, batch.ids());
                 OnnxTensor mask = OnnxTensor.createTensor(env, batch.attentionMask());
                 OnnxTensor types = OnnxTensor.createTensor(env, batch.typeIds());
                 OrtSession.RunOptions run = new OrtSession.RunOptions()) {
                if (loraAdapter != null) {
                    run.addActiveLoraAdapter(loraAdapter);
                }
                try (OrtSession.Result r = session.run(Map.of("input_ids", ids, "attention_mask", mask,
                        "token_type_ids", types), Set.of("scores"), run)) {
                    float[][] scores = (float[][]) r.get("scores").orElseThrow().getValue();
                    for (int i = 0; i < chunk.size(); i++) {
                        out.add(outputs.prediction(scores[i], outputIDInfo, chunk.get(i)));
                    }
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Override
    protected OnnxTextModel<T> copy(String newName, ModelProvenance newProvenance) {
        Map<String, String> meta = new HashMap<>();
        meta.put(OnnxExports.PREFIX + "max_length", Integer.toString(maxLength));
        meta.put(OnnxExports.PREFIX + "text_field", textField);
        meta.put(OnnxExports.PREFIX + "tokenizer", tokenizerJson);
        meta.put(OnnxExporter.WEIGHT_FORMAT_KEY, weightFormat.toString());
        return new OnnxTextModel<>(newName, newProvenance, featureIDMap, outputIDInfo, onnx, adapter, preferCuda, meta);
    }

    @Override
    public ModelProto serialize() {
        ModelDataCarrier<T> carrier = createDataCarrier();
        OnnxTextModelProto.Builder b = OnnxTextModelProto.newBuilder().setMetadata(carrier.serialize().toByteString())
                .setOnnxModel(ByteString.copyFrom(onnx)).setPreferCuda(preferCuda);
        if (adapter != null) {
            b.setOnnxAdapter(ByteString.copyFrom(adapter));
        }
        return ModelProto.newBuilder().setVersion(CURRENT_VERSION).setClassName(OnnxTextModel.class.getName())
                .setSerializedData(Any.pack(b.build())).build();
    }

    /** Rebuilds a model from its protobuf form (called by Tribuo's {@code Model.deserialize}). */
    public static OnnxTextModel<?> deserializeFromProto(int version, String className, Any message)
            throws InvalidProtocolBufferException {
        if (version < 0 || version > CURRENT_VERSION) {
            throw new IllegalArgumentException("unknown OnnxTextModel version " + version);
        }
        OnnxTextModelProto p = message.unpack(OnnxTextModelProto.class);
        ModelDataCarrier<?> carrier = ModelDataCarrier.deserialize(ModelDataProto.parseFrom(p.getMetadata()));
        byte[] onnx = p.getOnnxModel().toByteArray();
        try {
            return build(carrier, onnx, p.getOnnxAdapter().isEmpty() ? null : p.getOnnxAdapter().toByteArray(),
                    p.getPreferCuda(), readMetadata(onnx, "serialized OnnxTextModel"));
        } catch (ModelFileException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static <U extends Output<U>> OnnxTextModel<U> build(ModelDataCarrier<U> c, byte[] onnx, byte[] adapter,
                                                                boolean cuda, Map<String, String> meta) {
        return new OnnxTextModel<>(c.name(), c.provenance(), c.featureDomain(), c.outputDomain(), onnx, adapter, cuda,
                meta);
    }

    /** Frees the ONNX Runtime session; it is recreated if the model is used again. */
    @Override
    public synchronized void close() {
        try {
            if (loraAdapter != null) {
                loraAdapter.close();
            }
            if (session != null) {
                session.close();
            }
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        } finally {
            if (tokenizer != null) {
                tokenizer.close();
            }
            session = null;
            loraAdapter = null;
            tokenizer = null;
        }
    }
}
