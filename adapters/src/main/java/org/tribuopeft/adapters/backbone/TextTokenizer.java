package org.tribuopeft.adapters.backbone;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.tribuopeft.adapters.engine.TorchRuntime;
import org.tribuopeft.adapters.io.ModelFileException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * DJL's Hugging Face tokenizer with settings made explicit: special tokens added, truncation to a
 * fixed maximum length, no padding from the tokenizer (the {@code tokenizer.json} of the MiniLM jar
 * pads to 128 by itself); batches are padded here to their longest member (dynamic padding).
 */
public final class TextTokenizer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final long padId;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, long padId) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.padId = padId;
    }

    /**
     * Creates a tokenizer from the bytes of a {@code tokenizer.json}.
     *
     * @param tokenizerJson the file's bytes
     * @param maxLength the longest sequence in tokens, special tokens included
     * @param source the file name, used in errors
     * @throws ModelFileException when the bytes are not a tokenizer the library can load
     */
    public static TextTokenizer fromJson(byte[] tokenizerJson, int maxLength, String source) throws IOException {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (room for [CLS] and [SEP]), got "
                    + maxLength);
        }
        TorchRuntime.configure(0);
        long padId = 0;
        try {
            JsonNode root = JSON.readTree(tokenizerJson);
            JsonNode pad = root == null ? null : root.path("padding").get("pad_id");
            if (pad != null && pad.canConvertToLong()) {
                padId = pad.asLong();
            }
        } catch (IOException e) {
            throw new ModelFileException(source, "is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "true",
                "truncation", "true",
                "padding", "false",
                "maxLength", Integer.toString(maxLength),
                "modelMaxLength", Integer.toString(Math.max(maxLength, 512)));
        try {
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options);
            return new TextTokenizer(tok, maxLength, padId);
        } catch (RuntimeException e) {
            throw new ModelFileException(source, "could not be loaded as a Hugging Face tokenizer: " + e.getMessage(), e);
        }
    }

    /** The longest sequence produced, in tokens. */
    public int maxLength() {
        return maxLength;
    }

    /** Tokenizes texts and pads them to the longest one; texts longer than the maximum are truncated. */
    public TokenBatch encode(List<String> texts) {
        Encoding[] encs = tokenizer.batchEncode(texts);
        int longest = 1;
        for (Encoding e : encs) {
            longest = Math.max(longest, e.getIds().length);
        }
        long[][] ids = new long[encs.length][longest];
        long[][] mask = new long[encs.length][longest];
        long[][] types = new long[encs.length][longest];
        for (int i = 0; i < encs.length; i++) {
            long[] id = encs[i].getIds();
            long[] tt = encs[i].getTypeIds();
            java.util.Arrays.fill(ids[i], padId);
            System.arraycopy(id, 0, ids[i], 0, id.length);
            System.arraycopy(tt, 0, types[i], 0, tt.length);
            java.util.Arrays.fill(mask[i], 0, id.length, 1L);
        }
        return new TokenBatch(ids, mask, types);
    }

    /** Token count of one text after truncation (special tokens included). */
    public int countTokens(String text) {
        return tokenizer.encode(text).getIds().length;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
