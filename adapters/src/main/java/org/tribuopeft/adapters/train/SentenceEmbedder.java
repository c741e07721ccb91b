package org.tribuopeft.adapters.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertEncoder;
import org.tribuopeft.adapters.backbone.TextTokenizer;
import org.tribuopeft.adapters.backbone.TokenBatch;
import org.tribuopeft.adapters.engine.TorchRuntime;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Sentence vectors from a frozen pretrained encoder and its pooling, as sentence-transformers computes
 * them: the baseline that fine-tuning is measured against.
 */
public final class SentenceEmbedder implements AutoCloseable {
    private final NDManager manager;
    private final BertEncoder encoder;
    private final TextTokenizer tokenizer;
    private final Backbone backbone;

    /**
     * Loads the encoder on the default device.
     *
     * @param backbone the pretrained encoder
     * @param maxLength tokens per text
     */
    public SentenceEmbedder(Backbone backbone, int maxLength) throws IOException {
        this.backbone = backbone;
        this.manager = TorchRuntime.engine().newBaseManager();
        this.encoder = backbone.createEncoder(manager);
        this.tokenizer = backbone.tokenizer(maxLength);
    }

    /** Pooled vectors [texts][hidden]. */
    public float[][] embed(List<String> texts, int batchSize) {
        List<float[]> rows = new ArrayList<>(texts.size());
        int hidden = backbone.config().hiddenSize();
        for (int start = 0; start < texts.size(); start += batchSize) {
            List<String> chunk = texts.subList(start, Math.min(texts.size(), start + batchSize));
            try (NDScope scope = new NDScope()) {
                TokenBatch batch = tokenizer.encode(chunk);
                NDArray hiddenStates = encoder.encode(manager, batch);
                NDArray mask = manager.create(batch.attentionMask());
                float[] flat = backbone.pooling().pool(hiddenStates, mask).toFloatArray();
                for (int i = 0; i < chunk.size(); i++) {
                    float[] row = new float[hidden];
                    System.arraycopy(flat, i * hidden, row, 0, hidden);
                    rows.add(row);
                }
            }
        }
        return rows.toArray(new float[0][]);
    }

    @Override
    public void close() {
        tokenizer.close();
        manager.close();
    }
}
