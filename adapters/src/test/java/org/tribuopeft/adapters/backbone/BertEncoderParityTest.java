package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.tribuopeft.adapters.engine.TorchRuntime;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real pretrained encoders, run through our DJL blocks and through ONNX Runtime on the original
 * ONNX files, must agree on every non-padding position.
 */
class BertEncoderParityTest {
    static final int MAX_LENGTH = 48;
    static final List<String> SENTENCES = List.of(
            "Hello world.",
            "A",
            "The quick brown fox jumps over the lazy dog, and then it keeps running through the fields, past "
                    + "the river, over the hills and far away until the sun goes down and the stars come out, "
                    + "which is long enough to be truncated at forty-eight tokens.",
            "The café served crème brûlée to naïve tourists from Zürich.",
            "東京は日本の首都です。",
            "Привет мир, как дела? Ünïcödé ñ",
            "Emoji 🚀🔥 and maths ∑ ∫ √ ≠ ≤ are unusual tokens.",
            "Numbers like 3.14159 and 2,718 plus a URL https://example.org/path?q=1",
            "I absolutely loved this movie; the acting was superb.");

    @Test
    void allMiniLmMatchesOnnxRuntimeOnEveryToken() throws Exception {
        double max = maxDifference(BundledModel.ALL_MINILM_L6_V2);
        System.out.printf("all-MiniLM-L6-v2: max |DJL - ONNX Runtime| over non-padding tokens = %.3e%n", max);
        assertTrue(max <= 1e-4, "max difference " + max);
    }

    @Test
    void bgeSmallMatchesOnnxRuntimeOnEveryToken() throws Exception {
        double max = maxDifference(BundledModel.BGE_SMALL_EN_V15);
        System.out.printf("bge-small-en-v1.5: max |DJL - ONNX Runtime| over non-padding tokens = %.3e%n", max);
        assertTrue(max <= 1e-4, "max difference " + max);
    }

    @Test
    void paddingDoesNotChangeAnySequencesOutput() throws Exception {
        Backbone backbone = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        try (NDManager manager = TorchRuntime.engine().newBaseManager();
             TextTokenizer tok = backbone.tokenizer(MAX_LENGTH)) {
            BertEncoder encoder = backbone.createEncoder(manager);
            TokenBatch batch = tok.encode(SENTENCES);
            float[][][] batched = toArray(encoder.encode(manager, batch));
            double max = 0;
            for (int i = 0; i < SENTENCES.size(); i++) {
                float[][][] alone = toArray(encoder.encode(manager, tok.encode(List.of(SENTENCES.get(i)))));
                assertEquals(batch.tokenCount(i), alone[0].length, "unpadded length of sentence " + i);
                max = Math.max(max, maxDiff(batched[i], alone[0], batch.tokenCount(i)));
            }
            System.out.printf("padding invariance: max |batched - alone| = %.3e%n", max);
            assertTrue(max <= 1e-5, "padding changed outputs by " + max);
        }
    }

    @Test
    void longTextIsTruncatedToTheMaximumLength() throws Exception {
        try (TextTokenizer tok = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2).tokenizer(MAX_LENGTH)) {
            TokenBatch batch = tok.encode(SENTENCES);
            assertEquals(MAX_LENGTH, batch.length());
            assertEquals(MAX_LENGTH, batch.tokenCount(2));
            assertEquals(101L, batch.ids()[2][0], "[CLS] first");
            assertEquals(102L, batch.ids()[2][MAX_LENGTH - 1], "[SEP] kept after truncation");
            assertEquals(3, batch.tokenCount(1), "[CLS] a [SEP]");
        }
    }

    static double maxDifference(BundledModel model) throws Exception {
        Backbone backbone = Backbone.bundled(model);
        try (NDManager manager = TorchRuntime.engine().newBaseManager();
             TextTokenizer tok = backbone.tokenizer(MAX_LENGTH);
             OnnxRuntimeReference ort = new OnnxRuntimeReference(model)) {
            BertEncoder encoder = backbone.createEncoder(manager);
            TokenBatch batch = tok.encode(SENTENCES);
            float[][][] ours = toArray(encoder.encode(manager, batch));
            float[][][] reference = ort.lastHiddenState(batch);
            double max = 0;
            for (int i = 0; i < batch.size(); i++) {
                max = Math.max(max, maxDiff(ours[i], reference[i], batch.tokenCount(i)));
            }
            return max;
        }
    }

    static double maxDiff(float[][] a, float[][] b, int tokens) {
        double max = 0;
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < a[t].length; h++) {
                max = Math.max(max, Math.abs((double) a[t][h] - b[t][h]));
            }
        }
        return max;
    }

    static float[][][] toArray(NDArray hidden) {
        long[] s = hidden.getShape().getShape();
        float[] flat = hidden.toFloatArray();
        float[][][] out = new float[(int) s[0]][(int) s[1]][(int) s[2]];
        int k = 0;
        for (float[][] seq : out) {
            for (float[] tok : seq) {
                System.arraycopy(flat, k, tok, 0, tok.length);
                k += tok.length;
            }
        }
        return out;
    }
}
