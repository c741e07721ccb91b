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
    /** Instance field: SHA-256 of the initial adapter's weights (present only when one is configured). */
    public static final String INITIAL_ADAPTER_SHA256 = "initial-adapter-sha256";

    private final HashProvenance backboneHash;
    private final HashProvenance tokenizerHash;
    private final HashProvenance initialAdapterHash;

    AdapterTrainerProvenance(AdapterTrainer<?> host, Backbone backbone, String initialAdapterSha256) {
        super(host);
        this.backboneHash = new HashProvenance(ProvenanceUtil.HashType.SHA256, BACKBONE_SHA256,
                backbone.source().weightsFileSha256());
        this.tokenizerHash = new HashProvenance(ProvenanceUtil.HashType.SHA256, TOKENIZER_SHA256,
                backbone.tokenizerSha256());
        this.initialAdapterHash = initialAdapterSha256.isEmpty() ? null
                : new HashProvenance(ProvenanceUtil.HashType.SHA256, INITIAL_ADAPTER_SHA256, initialAdapterSha256);
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
        this.initialAdapterHash = (HashProvenance) info.instanceValues.get(INITIAL_ADAPTER_SHA256);
    }

    private static ExtractedInfo extract(Map<String, Provenance> map) {
        ExtractedInfo info = SkeletalTrainerProvenance.extractProvenanceInfo(map);
        info.instanceValues.put(BACKBONE_SHA256, ObjectProvenance.checkAndExtractProvenance(info.configuredParameters,
                BACKBONE_SHA256, HashProvenance.class, AdapterTrainerProvenance.class.getSimpleName()));
        info.instanceValues.put(TOKENIZER_SHA256, ObjectProvenance.checkAndExtractProvenance(info.configuredParameters,
                TOKENIZER_SHA256, HashProvenance.class, AdapterTrainerProvenance.class.getSimpleName()));
        ObjectProvenance.maybeExtractProvenance(info.configuredParameters, INITIAL_ADAPTER_SHA256, HashProvenance.class,
                AdapterTrainerProvenance.class.getSimpleName()).ifPresent(h -> info.instanceValues.put(
                INITIAL_ADAPTER_SHA256, h));
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
        if (initialAdapterHash != null) {
            map.put(initialAdapterHash.getKey(), initialAdapterHash);
        }
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
        return backboneHash.equals(that.backboneHash) && tokenizerHash.equals(that.tokenizerHash)
                && Objects.equals(initialAdapterHash, that.initialAdapterHash);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), backboneHash, tokenizerHash, initialAdapterHash);
    }
}
