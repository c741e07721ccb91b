package org.tribuopeft.adapters.backbone;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.quant.BaseQuantization;
import org.tribuopeft.adapters.quant.QuantizedTensor;
import org.tribuopeft.adapters.testing.EngineTestBase;
import org.tribuopeft.adapters.testing.TinyBert;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backbone loaded with a quantization quantizes each Linear weight as it is read and keeps only its codes and
 * scales; encoders built from it compute bit-identically to quantizing a float32 backbone's weights when the encoder
 * is made (the path before streaming), and the streamed ONNX reader gives the weights the whole-model parser gave.
 */
class QuantizedLoadingTest extends EngineTestBase {
    /**
     * {@link BertWeights#contentSha256()} of all-MiniLM-L6-v2 and bge-small-en-v1.5 as read by the reader that parsed
     * the whole ModelProto (commit e8c0923), before initializers were streamed.
     */
    private static final Map<BundledModel, String> WHOLE_PARSE_SHA256 = Map.of(
            BundledModel.ALL_MINILM_L6_V2, "deb0288da65736d595977d894fd96e2fa9c48e0b8cebad42d8ef6babe5997a65",
            BundledModel.BGE_SMALL_EN_V15, "bdec68e9ad871ac661e04228fcc24723a99d16fb79ac60d5149e283fb7017e6a");
    private static final List<String> REVIEWS = List.of("A quietly devastating film; the lead is superb.",
            "Two hours I will never get back. The plot makes no sense at all!", "ok");

    @Test
    void streamingTheOnnxFileGivesTheWeightsTheWholeModelParserGave() throws IOException {
        for (Map.Entry<BundledModel, String> e : WHOLE_PARSE_SHA256.entrySet()) {
            assertEquals(e.getValue(), Backbone.bundled(e.getKey()).weights().contentSha256(), e.getKey().toString());
        }
    }

    @Test
    void initializersBeforeTheNodesAreReadAsWellAndNodesAfterInitializersAreRefused(@TempDir Path tmp)
            throws IOException {
        ModelProto model;
        try (InputStream in = BundledModel.open(BundledModel.ALL_MINILM_L6_V2.onnxResource())) {
            CodedInputStream cis = CodedInputStream.newInstance(in);
            cis.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(cis);
        }
        GraphProto g = model.getGraph();
        byte[] inits = GraphProto.newBuilder().addAllInitializer(g.getInitializerList()).build().toByteArray();
        byte[] nodes = GraphProto.newBuilder().addAllNode(g.getNodeList()).build().toByteArray();
        byte[] firstNode = GraphProto.newBuilder().addNode(g.getNode(0)).build().toByteArray();
        byte[] otherNodes = GraphProto.newBuilder().addAllNode(g.getNodeList().subList(1, g.getNodeCount())).build()
                .toByteArray();
        Path tok = tmp.resolve("tokenizer.json");
        Files.write(tok, Backbone.bundled(BundledModel.ALL_MINILM_L6_V2).tokenizerJson());
        // protobuf merges repeated fields in the order met: initializers first, then the nodes
        Path late = tmp.resolve("late-nodes.onnx");
        Files.write(late, withGraph(model, inits, nodes));
        assertEquals(WHOLE_PARSE_SHA256.get(BundledModel.ALL_MINILM_L6_V2),
                Backbone.fromOnnx(late, tok, Pooling.MEAN).weights().contentSha256());
        Path interleaved = tmp.resolve("interleaved.onnx");
        Files.write(interleaved, withGraph(model, firstNode, inits, otherNodes));
        ModelFileException e = assertThrows(ModelFileException.class,
                () -> Backbone.fromOnnx(interleaved, tok, Pooling.MEAN));
        assertTrue(e.getMessage().contains("lists graph nodes after its initializers"), e.getMessage());
    }

    /** The model's bytes with its graph field replaced by the concatenation of {@code parts}. */
    private static byte[] withGraph(ModelProto model, byte[]... parts) throws IOException {
        java.io.ByteArrayOutputStream graph = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            graph.write(p);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        model.toBuilder().clearGraph().build().writeTo(out);
        CodedOutputStream cos = CodedOutputStream.newInstance(out);
        cos.writeByteArray(ModelProto.GRAPH_FIELD_NUMBER, graph.toByteArray());
        cos.flush();
        return out.toByteArray();
    }

    @Test
    void aBaseLoadedQuantizedHoldsCodesAndScalesInsteadOfFloatLinearWeights() throws IOException {
        BaseQuantization qlora = BaseQuantization.qlora();
        BertWeights floats = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2).weights();
        BertWeights held = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2, qlora).weights();
        assertTrue(held.isQuantized());
        assertEquals(qlora, held.quantization().orElseThrow());
        assertEquals(floats.parameterCount(), held.parameterCount());
        long expected = 0;
        int linears = 0;
        for (String name : BertWeights.expectedNames(floats.config())) {
            QuantizedTensor q = held.quantizedLinear(name);
            if (BertWeights.isLinearWeight(name)) {
                linears++;
                // the very codes and scales quantizing the float32 weight gives
                QuantizedTensor fromFloat = qlora.quantizer().quantizeOnHost(floats.get(name));
                assertArrayEquals(fromFloat.codes(), q.codes(), name);
                assertArrayEquals(fromFloat.blockScales(), q.blockScales(), name);
                expected += q.codeBytes() + q.scaleBytes();
                IllegalStateException noFloat = assertThrows(IllegalStateException.class, () -> held.get(name));
                assertTrue(noFloat.getMessage().contains("no float32 copy"), noFloat.getMessage());
            } else {
                assertEquals(null, q, name);
                assertArrayEquals(floats.get(name).data(), held.get(name).data(), name);
                expected += 4L * held.get(name).data().length;
            }
        }
        assertEquals(36, linears);
        assertEquals(expected, held.heldBytes());
        assertTrue(held.heldBytes() < floats.heldBytes());
        assertThrows(IllegalStateException.class, held::tensors);
    }

    @Test
    void encodersFromAQuantizedLoadComputeBitIdenticallyToQuantizingAtEncoderCreation() throws IOException {
        BaseQuantization qlora = BaseQuantization.qlora();
        Backbone floatBase = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        Backbone quantBase = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2, qlora);
        try (TextTokenizer tok = floatBase.tokenizer(64)) {
            TokenBatch batch = tok.encode(REVIEWS);
            float[] before = floatBase.createEncoder(manager, qlora).encode(manager, batch).toFloatArray();
            float[] after = quantBase.createEncoder(manager).encode(manager, batch).toFloatArray();
            assertArrayEquals(before, after);
        }
        // a Hugging Face folder, in every storage
        Backbone wide = TinyBert.wideBackbone(7);
        for (BaseQuantization q : List.of(qlora, new BaseQuantization("nf4", 32, false),
                new BaseQuantization("fp4", 64, true), new BaseQuantization("int8", 64, false))) {
            Backbone loaded = Backbone.fromHfFolder(TinyBert.wideFolder(7), Pooling.MEAN, q);
            assertTrue(loaded.weights().isQuantized(), q.toString());
            try (TextTokenizer tok = wide.tokenizer(24)) {
                TokenBatch batch = tok.encode(List.of("a quick brown fox", "z"));
                assertArrayEquals(wide.createEncoder(manager, q).encode(manager, batch).toFloatArray(),
                        loaded.createEncoder(manager, q).encode(manager, batch).toFloatArray(), q.toString());
            }
        }
        // float32 loads are as before: the same weights whichever path
        Backbone plain = Backbone.fromHfFolder(TinyBert.wideFolder(7), Pooling.MEAN, null);
        assertFalse(plain.weights().isQuantized());
        assertEquals(wide.weights().contentSha256(), plain.weights().contentSha256());
    }

    @Test
    void aQuantizedLoadRefusesAnotherStorageAndABlockSizeThatDoesNotFitByName() throws IOException {
        Backbone loaded = Backbone.fromHfFolder(TinyBert.wideFolder(7), Pooling.MEAN, BaseQuantization.qlora());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> loaded.createEncoder(manager, null));
        assertTrue(other.getMessage().contains("loaded with its Linear weights quantized as nf4(blockSize=64, "
                + "doubleQuant=true") && other.getMessage().contains("stored as float32"), other.getMessage());
        IllegalArgumentException block = assertThrows(IllegalArgumentException.class,
                () -> Backbone.fromHfFolder(TinyBert.wideFolder(7), Pooling.MEAN,
                        new BaseQuantization("nf4", 128, false)));
        assertTrue(block.getMessage().contains("blockSize 128 does not divide the input width 64"), block.getMessage());
    }
}
