package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuopeft.adapters.backbone.Backbone;

import java.util.HashMap;
import java.util.Map;

/** The tokenizer a model was trained with: the SHA-256 of its tokenizer.json, its library and its length limit. */
public final class TokenizerProvenance extends MapBackedProvenance {
    private static final long serialVersionUID = 1L;

    /** Field holding the SHA-256 of tokenizer.json. */
    public static final String SHA256 = "tokenizer-sha256";

    /** Unmarshalling constructor. */
    public TokenizerProvenance(Map<String, Provenance> map) {
        super(map);
    }

    /** Describes the tokenizer of a backbone used at {@code maxLength} tokens. */
    public static TokenizerProvenance of(Backbone backbone, int maxLength) {
        Map<String, Provenance> m = new HashMap<>();
        m.put(SHA256, new HashProvenance(ProvenanceUtil.HashType.SHA256, SHA256, backbone.tokenizerSha256()));
        m.put("max-length", new IntProvenance("max-length", maxLength));
        m.put("library", new StringProvenance("library", "ai.djl.huggingface:tokenizers"));
        m.put("truncation", new StringProvenance("truncation", "longest_first"));
        m.put("padding", new StringProvenance("padding", "dynamic, to the longest in each batch"));
        return new TokenizerProvenance(m);
    }

    /** SHA-256 of tokenizer.json. */
    public String sha256() {
        return field(SHA256, HashProvenance.class).getValue();
    }

    /** The maximum length in tokens. */
    public int maxLength() {
        return field("max-length", IntProvenance.class).getValue();
    }
}
