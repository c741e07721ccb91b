package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import org.tribuo.provenance.SkeletalTrainerProvenance;
import org.tribuopeft.adapters.backbone.Backbone;

import java.util.Map;
import java.util.Objects;

/**
 * The provenance of an {@link AdapterTrainer}: its configuration (method component included) plus the
 * SHA-256 of the base model's weight file and tokenizer, so the trainer's record alone says which
 * base it needs.
 */
public final class AdapterTrainerProvenance extends SkeletalTrainerProvenance {
    private static final long serialVersionUID = 1L;

    /** Instance field: SHA-256 of the base model's weight file. */
    public static final String BACKBONE_SHA256 = "backbone-weights-sha256";
    /** Instance field: SHA-256 of the base model's tokenizer.json. */
    public static final String TOKENIZER_SHA256 = "backbone-tokenizer-sha256";

    private final HashProvenance backboneHash;
    private final HashProvenance tokenizerHash;

    AdapterTrainerProvenance(AdapterTrainer<?> host, Backbone backbone) {
        super(host);
        this.backboneHash = new HashProvenance(ProvenanceUtil.HashType.SHA256, BACKBONE_SHA256,
                backbone.source().weightsFileSha256());
        this.tokenizerHash = new HashProvenance(ProvenanceUtil.HashType.SHA256, TOKENIZER_SHA256,
                backbone.tokenizerSha256());
    }

    /**
     * Unmarshalling constructor.
     *
     * @param map the provenance fields
     */
    public AdapterTrainerProvenance(Map<String, Provenance> map) {
        this(extract(map));
    }

    private AdapterTrainerProvenance(ExtractedInfo info) {
        super(info);
        this.backboneHash = (HashProvenance) info.instanceValues.get(BACKBONE_SHA256);
        this.tokenizerHash = (HashProvenance) info.instanceValues.get(TOKENIZER_SHA256);
    }

    private static ExtractedInfo extract(Map<String, Provenance> map) {
        ExtractedInfo info = SkeletalTrainerProvenance.extractProvenanceInfo(map);
        info.instanceValues.put(BACKBONE_SHA256, ObjectProvenance.checkAndExtractProvenance(info.configuredParameters,
                BACKBONE_SHA256, HashProvenance.class, AdapterTrainerProvenance.class.getSimpleName()));
        info.instanceValues.put(TOKENIZER_SHA256, ObjectProvenance.checkAndExtractProvenance(info.configuredParameters,
                TOKENIZER_SHA256, HashProvenance.class, AdapterTrainerProvenance.class.getSimpleName()));
        return info;
    }

    /** SHA-256 of the base model's weight file. */
    public String backboneSha256() {
        return backboneHash.getValue();
    }

    /** SHA-256 of the base model's tokenizer.json. */
    public String tokenizerSha256() {
        return tokenizerHash.getValue();
    }

    @Override
    public Map<String, PrimitiveProvenance<?>> getInstanceValues() {
        Map<String, PrimitiveProvenance<?>> map = super.getInstanceValues();
        map.put(backboneHash.getKey(), backboneHash);
        map.put(tokenizerHash.getKey(), tokenizerHash);
        return map;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || getClass() != o.getClass() || !super.equals(o)) {
            return false;
        }
        AdapterTrainerProvenance that = (AdapterTrainerProvenance) o;
        return backboneHash.equals(that.backboneHash) && tokenizerHash.equals(that.tokenizerHash);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), backboneHash, tokenizerHash);
    }
}
