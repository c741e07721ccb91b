package org.tribuopeft.adapters.export;

import ai.djl.ndarray.NDScope;
import ai.djl.training.ParameterStore;
import org.tribuopeft.adapters.backbone.BertEncoder;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.HiddenActivation;
import org.tribuopeft.adapters.backbone.Pooling;
import org.tribuopeft.adapters.backbone.TargetModule;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.TaskKind;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes a text model as an ONNX graph for ONNX Runtime: the BERT encoder, the pooling and the task
 * head, with inputs {@code input_ids}, {@code attention_mask}, {@code token_type_ids} (int64
 * [batch, sequence]) and outputs {@code logits} and {@code scores} (softmax, sigmoid or identity,
 * [batch, outputs]) plus {@code last_hidden_state}. Two forms:
 * <ul>
 *   <li>merged: the adapter folded into the weights, a standalone model;</li>
 *   <li>with adapter inputs: the base weights, and for each adaptable Linear two optional graph inputs
 *   {@code <module>.lora_A} [in, r] and {@code <module>.lora_B} [r, out] (scaling folded into B; zero
 *   by default, so the graph alone is the base model), plus the head as {@code classifier.weight}
 *   [hidden, outputs] and {@code classifier.bias}. ONNX Runtime's {@code OrtLoraAdapter} then switches
 *   adapters per run on one session.</li>
 * </ul>
 * The merged form can store the encoder's Linear weights quantized ({@link WeightFormat}): each
 * {@code MatMul} by a weight becomes ONNX Runtime's {@code com.microsoft.MatMulNBits} with 8- or 4-bit
 * block-quantized weights ({@link BlockQuantizedWeight}); everything else stays float32.
 */
public final class OnnxExporter {
    /** The ONNX opset written (LayerNormalization needs 17). */
    public static final int OPSET = 17;

    /** The operator set of ONNX Runtime's contrib operators ({@code MatMulNBits}). */
    public static final String MICROSOFT_DOMAIN = "com.microsoft";

    /** The metadata key that records the Linear weights' format (see {@link WeightFormat#toString()}). */
    public static final String WEIGHT_FORMAT_KEY = "tribuo_peft.weight_format";

    private OnnxExporter() {}

    /**
     * What to export.
     *
     * @param weights the encoder weights (merged, for the merged form; the pretrained ones otherwise)
     * @param headWeight the head's weight [outputs, hidden], or null to expose the head as inputs
     * @param headBias the head's bias [outputs], or null with {@code headWeight}
     * @param outputs the head's width
     * @param pooling the pooling
     * @param task the task (fixes the {@code scores} activation)
     * @param loraModules modules that get low-rank inputs (empty for the merged form)
     * @param metadata string metadata stored in the model (provenance, labels, tokenizer, ...)
     * @param virtualTokens constant virtual-token embeddings [count, hidden] placed before the input, or null
     * @param attentionPrefix constant prefix keys and values [layers, 2, count, hidden] before every layer's own,
     *     or null
     * @param weightFormat how the encoder's Linear weights are stored (float32, or quantized for the merged form)
     */
    public record Spec(BertWeights weights, HostTensor headWeight, HostTensor headBias, int outputs, Pooling pooling,
                       TaskKind task, Set<String> loraModules, Map<String, String> metadata, HostTensor virtualTokens,
                       HostTensor attentionPrefix, WeightFormat weightFormat) {
        /**
         * Copies the collections and checks the weight format: quantized weights need the merged form, and a
         * block size that divides every Linear's input width.
         *
         * @throws WeightFormatException before anything is built when the format does not fit
         */
        public Spec {
            loraModules = Set.copyOf(new LinkedHashSet<>(loraModules));
            metadata = Map.copyOf(metadata);
            if (weightFormat.isQuantized()) {
                if (!loraModules.isEmpty() || headWeight == null) {
                    throw new WeightFormatException("weight format " + weightFormat + " is for merged exports only: "
                            + "the form with adapter inputs keeps float32 weights (ONNX Runtime adds the adapter to "
                            + "them); export merged, or use float32");
                }
                checkFits(weights.config(), weightFormat);
            }
        }

        /** A float32 model with the given virtual tokens and attention prefix. */
        public Spec(BertWeights weights, HostTensor headWeight, HostTensor headBias, int outputs, Pooling pooling,
                    TaskKind task, Set<String> loraModules, Map<String, String> metadata, HostTensor virtualTokens,
                    HostTensor attentionPrefix) {
            this(weights, headWeight, headBias, outputs, pooling, task, loraModules, metadata, virtualTokens,
                    attentionPrefix, WeightFormat.FLOAT32);
        }

        /** A model without virtual tokens or attention prefix. */
        public Spec(BertWeights weights, HostTensor headWeight, HostTensor headBias, int outputs, Pooling pooling,
                    TaskKind task, Set<String> loraModules, Map<String, String> metadata) {
            this(weights, headWeight, headBias, outputs, pooling, task, loraModules, metadata, null, null);
        }

        /** This spec with its Linear weights stored in {@code format}. */
        public Spec withWeightFormat(WeightFormat format) {
            return new Spec(weights, headWeight, headBias, outputs, pooling, task, loraModules, metadata, virtualTokens,
                    attentionPrefix, format);
        }
    }

    /**
     * Checks that every adaptable Linear of an encoder of this shape can be stored in {@code format}.
     *
     * @throws WeightFormatException naming the first module whose input width the block size does not divide
     */
    public static void checkFits(BertConfig config, WeightFormat format) {
        for (TargetModule m : TargetModule.values()) {
            long inputs = m == TargetModule.OUTPUT ? config.intermediateSize() : config.hiddenSize();
            format.checkFits(m.moduleName(0), inputs);
        }
    }

    /**
     * The merged form of a model: its adapters folded into the weights for the export and taken out
     * again afterwards (full fine-tunes are exported as trained).
     */
    public static ModelProto merged(org.tribuopeft.adapters.train.TextModel model, Map<String, String> metadata) {
        return merged(model, metadata, WeightFormat.FLOAT32);
    }

    /**
     * The merged form with the encoder's Linear weights stored in {@code format}.
     *
     * @throws WeightFormatException before merging when the format does not fit the encoder
     */
    public static ModelProto merged(org.tribuopeft.adapters.train.TextModel model, Map<String, String> metadata,
                                    WeightFormat format) {
        checkFits(model.backbone().config(), format);
        var adapted = model.adapted();
        boolean merge = !adapted.layers().isEmpty() && !adapted.isMerged();
        if (merge) {
            adapted.merge();
        }
        try {
            BertEncoder encoder = adapted.encoder();
            BertWeights weights = encoder.toWeights();
            HostTensor virtual = null;
            HostTensor prefix = null;
            // the learned inputs become constants: their values no longer depend on anything trainable
            try (NDScope scope = new NDScope()) {
                var manager = encoder.baseParameters().get("embeddings.word_embeddings.weight").getArray().getManager();
                ParameterStore ps = new ParameterStore(manager, false);
                if (encoder.virtualTokens() != null) {
                    virtual = HostTensor.of(encoder.virtualTokens().embeddings(ps, manager.getDevice(), false));
                }
                if (encoder.attentionPrefix() != null) {
                    prefix = HostTensor.of(encoder.attentionPrefix().keysAndValues(ps, manager.getDevice(), false));
                }
            }
            return export(new Spec(weights, HostTensor.of(model.head().weight().getArray()),
                    HostTensor.of(model.head().bias().getArray()), model.head().outputs(),
                    model.backbone().pooling(), model.task(), Set.of(), metadata, virtual, prefix, format));
        } finally {
            if (merge) {
                adapted.unmerge();
            }
        }
    }

    /** Builds the ONNX model. */
    public static ModelProto export(Spec spec) {
        BertConfig c = spec.weights().config();
        OnnxGraph g = new OnnxGraph("tribuo-peft-bert");
        g.input("input_ids", OnnxGraph.INT64, "batch", "sequence");
        g.input("attention_mask", OnnxGraph.INT64, "batch", "sequence");
        g.input("token_type_ids", OnnxGraph.INT64, "batch", "sequence");
        Map<String, HostTensor> w = spec.weights().tensors();

        // embeddings
        String word = g.op("Gather", "word", g.floatInit("embeddings.word_embeddings.weight",
                w.get("embeddings.word_embeddings.weight")), "input_ids");
        String type = g.op("Gather", "type", g.floatInit("embeddings.token_type_embeddings.weight",
                w.get("embeddings.token_type_embeddings.weight")), "token_type_ids");
        String shape = g.op("Shape", "shape", "input_ids");
        String batchOnly = g.op("Slice", "batch", shape, g.longInit("start", new long[] {0}, 1),
                g.longInit("end", new long[] {1}, 1));
        HostTensor virtual = spec.virtualTokens();
        HostTensor prefix = spec.attentionPrefix();
        int virtualCount = virtual == null ? 0 : (int) virtual.dim(0);
        int prefixCount = prefix == null ? 0 : (int) prefix.dim(2);
        String wordType = g.op("Add", "emb", word, type);
        if (virtualCount > 0) {
            // virtual tokens have token type 0 for every row, so their sum is one constant
            HostTensor typed = addRow(virtual, w.get("embeddings.token_type_embeddings.weight"), 0);
            String rows = perRow(g, batchOnly, g.floatInit("virtual_tokens", new HostTensor(new long[] {1, virtualCount, c.hiddenSize()}, typed.data())),
                    virtualCount, c.hiddenSize());
            wordType = g.opWithAttrs("Concat", "emb", new String[] {rows, wordType}, "axis", 1L);
        }
        String seq = g.opWithAttrs("Gather", "seq", new String[] {shape, g.longInit("one", new long[] {1})}, "axis", 0L);
        // the input's positions follow the virtual tokens and the attention prefix, as in Hugging Face
        String positions = g.op("Range", "positions", g.longInit("first", new long[] {prefixCount}),
                g.op("Add", "last", seq, g.longInit("extra", new long[] {virtualCount + prefixCount})),
                g.longInit("step", new long[] {1}));
        String pos = g.op("Gather", "pos", g.floatInit("embeddings.position_embeddings.weight",
                w.get("embeddings.position_embeddings.weight")), positions);
        String x = layerNorm(g, c, g.op("Add", "emb", wordType, pos), "embeddings.LayerNorm", w);

        // additive attention mask: (mask − 1) · float32 max, shaped [batch, 1, 1, sequence]
        String maskF = g.opWithAttrs("Cast", "maskf", new String[] {"attention_mask"}, "to", (long) OnnxGraph.FLOAT);
        String keyMask = maskF;
        if (virtualCount + prefixCount > 0) {
            int extra = virtualCount + prefixCount;
            float[] ones = new float[extra];
            java.util.Arrays.fill(ones, 1f);
            String shapeBE = g.opWithAttrs("Concat", "shape", new String[] {batchOnly, g.longInit("extra", new long[] {extra}, 1)},
                    "axis", 0L);
            String onesB = g.op("Expand", "ones", g.floatInit(g.fresh("ones"), new HostTensor(new long[] {1, extra}, ones)),
                    shapeBE);
            keyMask = g.opWithAttrs("Concat", "keymask", new String[] {onesB, maskF}, "axis", 1L);
        }
        String maskBias = g.op("Mul", "maskbias", g.op("Sub", "maskm1", keyMask, g.scalar(1f)), g.scalar(Float.MAX_VALUE));
        String mask4 = g.op("Unsqueeze", "mask4", maskBias, g.longInit("axes", new long[] {1, 2}, 2));

        String headShape = g.longInit("heads", new long[] {0, 0, c.numHeads(), c.headSize()}, 4);
        String mergedShape = g.longInit("merged", new long[] {0, 0, c.hiddenSize()}, 3);
        String scale = g.scalar((float) Math.sqrt(c.headSize()));
        for (int l = 0; l < c.numLayers(); l++) {
            String p = BertWeights.layerPrefix(l);
            String q = transpose(g, g.op("Reshape", "q", linear(g, spec, x, TargetModule.QUERY.moduleName(l), w), headShape),
                    0, 2, 1, 3);
            String keys = linear(g, spec, x, TargetModule.KEY.moduleName(l), w);
            String values = linear(g, spec, x, TargetModule.VALUE.moduleName(l), w);
            if (prefixCount > 0) {
                keys = withPrefix(g, batchOnly, keys, prefix, l, 0);
                values = withPrefix(g, batchOnly, values, prefix, l, 1);
            }
            String k = transpose(g, g.op("Reshape", "k", keys, headShape), 0, 2, 3, 1);
            String v = transpose(g, g.op("Reshape", "v", values, headShape), 0, 2, 1, 3);
            String scores = g.op("Add", "scores", g.op("Div", "scaled", g.op("MatMul", "qk", q, k), scale), mask4);
            String probs = g.opWithAttrs("Softmax", "probs", new String[] {scores}, "axis", -1L);
            String ctx = g.op("Reshape", "ctx", transpose(g, g.op("MatMul", "ctx", probs, v), 0, 2, 1, 3), mergedShape);
            String attn = linear(g, spec, ctx, TargetModule.ATTENTION_OUTPUT.moduleName(l), w);
            String a = layerNorm(g, c, g.op("Add", "res", attn, x), p + "attention.output.LayerNorm", w);
            String inter = activation(g, c.hiddenAct(), linear(g, spec, a, TargetModule.INTERMEDIATE.moduleName(l), w));
            String out = linear(g, spec, inter, TargetModule.OUTPUT.moduleName(l), w);
            x = layerNorm(g, c, g.op("Add", "res", out, a), p + "output.LayerNorm", w);
        }
        if (virtualCount > 0) {
            // last_hidden_state and pooling cover the real tokens only
            x = g.op("Slice", "real", x, g.longInit("start", new long[] {virtualCount}, 1),
                    g.longInit("end", new long[] {Long.MAX_VALUE}, 1), g.longInit("axes", new long[] {1}, 1));
        }
        String hidden = g.op("Identity", "hidden", x);
        g.rename(hidden, "last_hidden_state");
        g.output("last_hidden_state", OnnxGraph.FLOAT, "batch", "sequence", (long) c.hiddenSize());

        String pooled;
        if (spec.pooling() == Pooling.CLS) {
            pooled = g.opWithAttrs("Gather", "cls", new String[] {"last_hidden_state", g.longInit("first", new long[] {0})},
                    "axis", 1L);
        } else {
            String m3 = g.op("Unsqueeze", "mask3", maskF, g.longInit("axes", new long[] {2}, 1));
            String axis1 = g.longInit("axes", new long[] {1}, 1);
            String sum = g.opWithAttrs("ReduceSum", "sum", new String[] {g.op("Mul", "masked", "last_hidden_state", m3),
                axis1}, "keepdims", 0L);
            String count = g.op("Max", "count", g.opWithAttrs("ReduceSum", "count", new String[] {m3, axis1}, "keepdims",
                    0L), g.scalar(1e-9f));
            pooled = g.op("Div", "mean", sum, count);
        }
        String headW;
        String headB;
        if (spec.headWeight() == null) {
            headW = "classifier.weight";
            headB = "classifier.bias";
            g.floatInit(headW, new HostTensor(new long[] {c.hiddenSize(), spec.outputs()},
                    new float[c.hiddenSize() * spec.outputs()]));
            g.floatInit(headB, new HostTensor(new long[] {spec.outputs()}, new float[spec.outputs()]));
            g.input(headW, OnnxGraph.FLOAT, (long) c.hiddenSize(), (long) spec.outputs());
            g.input(headB, OnnxGraph.FLOAT, (long) spec.outputs());
        } else {
            headW = g.floatInit("classifier.weight_t", spec.headWeight().transpose2d());
            headB = g.floatInit("classifier.bias", spec.headBias());
        }
        String logits = g.op("Add", "logits", g.op("MatMul", "head", pooled, headW), headB);
        g.rename(logits, "logits");
        g.output("logits", OnnxGraph.FLOAT, "batch", (long) spec.outputs());
        String activated = switch (spec.task()) {
            case SINGLE_LABEL -> g.opWithAttrs("Softmax", "scores", new String[] {"logits"}, "axis", -1L);
            case MULTI_LABEL -> g.op("Sigmoid", "scores", "logits");
            case REGRESSION -> g.op("Identity", "scores", "logits");
        };
        g.rename(activated, "scores");
        g.output("scores", OnnxGraph.FLOAT, "batch", (long) spec.outputs());

        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(8).setProducerName("tribuo-peft")
                .setDomain("org.tribuopeft").setModelVersion(1).setGraph(g.build())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (spec.weightFormat().isQuantized()) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(MICROSOFT_DOMAIN).setVersion(1));
        }
        spec.metadata().forEach((k, v) -> {
            if (!k.equals(WEIGHT_FORMAT_KEY)) {
                model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v));
            }
        });
        // the format is recorded from what was built, never from what a caller claims
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(WEIGHT_FORMAT_KEY)
                .setValue(spec.weightFormat().toString()));
        return model.build();
    }

    private static String transpose(OnnxGraph g, String in, long... perm) {
        return g.opWithAttrs("Transpose", "t", new String[] {in}, "perm", perm);
    }

    /** {@code rows} [1, count, hidden] repeated for every row of the batch. */
    private static String perRow(OnnxGraph g, String batchOnly, String rows, int count, int hidden) {
        String shape = g.opWithAttrs("Concat", "shape", new String[] {batchOnly,
            g.longInit("rest", new long[] {count, hidden}, 2)}, "axis", 0L);
        return g.op("Expand", "rows", rows, shape);
    }

    /** Layer {@code layer}'s constant prefix keys ({@code kv} 0) or values (1) before the input's own, on axis 1. */
    private static String withPrefix(OnnxGraph g, String batchOnly, String own, HostTensor prefix, int layer, int kv) {
        int count = (int) prefix.dim(2);
        int hidden = (int) prefix.dim(3);
        int size = count * hidden;
        float[] slice = java.util.Arrays.copyOfRange(prefix.data(), (layer * 2 + kv) * size, (layer * 2 + kv + 1) * size);
        String constant = g.floatInit(g.fresh(kv == 0 ? "prefix_keys" : "prefix_values"),
                new HostTensor(new long[] {1, count, hidden}, slice));
        return g.opWithAttrs("Concat", kv == 0 ? "keys" : "values", new String[] {perRow(g, batchOnly, constant, count,
            hidden), own}, "axis", 1L);
    }

    /** {@code rows} [count, hidden] plus row {@code row} of {@code table}. */
    private static HostTensor addRow(HostTensor rows, HostTensor table, int row) {
        int hidden = (int) rows.dim(1);
        float[] out = rows.data().clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += table.data()[row * hidden + i % hidden];
        }
        return new HostTensor(rows.shape(), out);
    }

    private static String layerNorm(OnnxGraph g, BertConfig c, String in, String prefix, Map<String, HostTensor> w) {
        return g.opWithAttrs("LayerNormalization", "ln", new String[] {in,
            g.floatInit(prefix + ".weight", w.get(prefix + ".weight")), g.floatInit(prefix + ".bias", w.get(prefix + ".bias"))},
                "axis", -1L, "epsilon", (float) c.layerNormEps());
    }

    private static String activation(OnnxGraph g, HiddenActivation act, String in) {
        return switch (act) {
            case GELU -> {
                String erf = g.op("Erf", "erf", g.op("Div", "scaled", in, g.scalar((float) Math.sqrt(2.0))));
                yield g.op("Mul", "gelu", g.op("Mul", "half", in, g.scalar(0.5f)), g.op("Add", "one", erf, g.scalar(1f)));
            }
            case GELU_TANH -> {
                String cube = g.op("Mul", "cube", g.op("Mul", "sq", in, in), in);
                String inner = g.op("Mul", "inner", g.op("Add", "poly", in, g.op("Mul", "c", cube, g.scalar(0.044715f))),
                        g.scalar((float) Math.sqrt(2.0 / Math.PI)));
                String t = g.op("Add", "one", g.op("Tanh", "tanh", inner), g.scalar(1f));
                yield g.op("Mul", "gelu", g.op("Mul", "half", in, g.scalar(0.5f)), t);
            }
            case RELU -> g.op("Relu", "relu", in);
        };
    }

    /** x·Wᵀ + b, plus (x·A)·B from graph inputs when the module takes an adapter. */
    private static String linear(OnnxGraph g, Spec spec, String in, String module, Map<String, HostTensor> w) {
        HostTensor weight = w.get(module + ".weight");
        String product = spec.weightFormat().isQuantized()
                ? quantizedMatMul(g, in, module, BlockQuantizedWeight.quantize(weight, spec.weightFormat(), module))
                : g.op("MatMul", "matmul", in, g.floatInit(module + ".weight_t", weight.transpose2d()));
        String y = g.op("Add", "linear", product, g.floatInit(module + ".bias", w.get(module + ".bias")));
        if (!spec.loraModules().contains(module)) {
            return y;
        }
        long out = weight.dim(0);
        long inDim = weight.dim(1);
        String a = module + ".lora_A";
        String b = module + ".lora_B";
        String rank = "r_" + module.replace('.', '_');
        g.floatInit(a, new HostTensor(new long[] {inDim, 1}, new float[(int) inDim]));
        g.floatInit(b, new HostTensor(new long[] {1, out}, new float[(int) out]));
        g.input(a, OnnxGraph.FLOAT, inDim, rank);
        g.input(b, OnnxGraph.FLOAT, rank, out);
        return g.op("Add", "adapted", y, g.op("MatMul", "lora_b", g.op("MatMul", "lora_a", in, a), b));
    }

    /** x·Wᵀ by ONNX Runtime's MatMulNBits on the block-quantized weight (bias added outside, as for float32). */
    private static String quantizedMatMul(OnnxGraph g, String in, String module, BlockQuantizedWeight q) {
        WeightFormat f = q.format();
        int blocks = q.inputs() / f.blockSize();
        String codes = g.byteInit(module + ".weight_q" + f.bits(), q.packed(), q.outputs(), blocks,
                BlockQuantizedWeight.blobSize(f));
        String scales = g.floatInit(module + ".weight_scales", q.scales(), (long) q.outputs() * blocks);
        String[] inputs = q.zeroPoints() == null ? new String[] {in, codes, scales}
                : new String[] {in, codes, scales, g.byteInit(module + ".weight_zero_points", q.zeroPoints(),
                    (long) q.zeroPoints().length)};
        return g.opInDomain(MICROSOFT_DOMAIN, "MatMulNBits", "matmul_q", inputs, "K", (long) q.inputs(),
                "N", (long) q.outputs(), "bits", (long) f.bits(), "block_size", (long) f.blockSize(),
                "accuracy_level", (long) f.accuracyLevel());
    }
}
