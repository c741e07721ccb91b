package org.tribuopeft.plugin.data;

import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.impl.SkeletalConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.IntProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Provenance of a text data file source ({@link TextCsvDataSource}, {@link TextJsonDataSource}): its
 * configuration, the SHA-256 of the file read (so a replay can refuse a changed file) and how many rows
 * were skipped for a blank output.
 */
public final class TextFileProvenance extends SkeletalConfiguredObjectProvenance
        implements ConfiguredDataSourceProvenance {
    private static final long serialVersionUID = 1L;

    /** Field counting the rows skipped for a blank output cell. */
    public static final String SKIPPED_ROWS = "skipped-rows";

    private final HashProvenance hash;
    private final IntProvenance skipped;

    TextFileProvenance(ConfigurableDataSource<?> host, String sha256, int skippedRows) {
        super(host, "DataSource");
        this.hash = new HashProvenance(ProvenanceUtil.HashType.SHA256, RESOURCE_HASH, sha256);
        this.skipped = new IntProvenance(SKIPPED_ROWS, skippedRows);
    }

    /**
     * Unmarshalling constructor.
     *
     * @param map the provenance fields
     */
    public TextFileProvenance(Map<String, Provenance> map) {
        this(extract(map));
    }

    private TextFileProvenance(ExtractedInfo info) {
        super(info);
        this.hash = (HashProvenance) info.instanceValues.get(RESOURCE_HASH);
        this.skipped = (IntProvenance) info.instanceValues.get(SKIPPED_ROWS);
    }

    static String sha256(Path file) {
        return ProvenanceUtil.hashResource(ProvenanceUtil.HashType.SHA256, file);
    }

    private static ExtractedInfo extract(Map<String, Provenance> map) {
        Map<String, Provenance> configured = new HashMap<>(map);
        String name = TextFileProvenance.class.getSimpleName();
        String className = ObjectProvenance.checkAndExtractProvenance(configured, CLASS_NAME, StringProvenance.class,
                name).getValue();
        String host = ObjectProvenance.checkAndExtractProvenance(configured, HOST_SHORT_NAME, StringProvenance.class,
                name).getValue();
        Map<String, PrimitiveProvenance<?>> instance = new HashMap<>();
        instance.put(RESOURCE_HASH, ObjectProvenance.checkAndExtractProvenance(configured, RESOURCE_HASH,
                HashProvenance.class, name));
        instance.put(SKIPPED_ROWS, ObjectProvenance.checkAndExtractProvenance(configured, SKIPPED_ROWS,
                IntProvenance.class, name));
        return new ExtractedInfo(className, host, configured, instance);
    }

    /** How many rows were skipped for a blank output cell. */
    public int skippedRows() {
        return skipped.getValue();
    }

    @Override
    public Map<String, PrimitiveProvenance<?>> getInstanceValues() {
        Map<String, PrimitiveProvenance<?>> m = super.getInstanceValues();
        m.put(RESOURCE_HASH, hash);
        m.put(SKIPPED_ROWS, skipped);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || getClass() != o.getClass() || !super.equals(o)) {
            return false;
        }
        TextFileProvenance that = (TextFileProvenance) o;
        return hash.equals(that.hash) && skipped.equals(that.skipped);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), hash, skipped);
    }
}
