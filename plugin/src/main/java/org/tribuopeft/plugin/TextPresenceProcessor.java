package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.provenance.ConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.impl.ConfiguredObjectProvenanceImpl;
import org.tribuo.data.columnar.ColumnarFeature;
import org.tribuo.data.columnar.FieldProcessor;

import java.util.List;

/**
 * A field processor for the text column that always emits one constant feature, so Tribuo keeps the
 * row (it drops rows without features) while the text itself travels in the example's metadata.
 * Empty texts are kept too, so that {@link AdapterTrainer} can report them by example instead of
 * Tribuo silently dropping them.
 */
public final class TextPresenceProcessor implements FieldProcessor {
    /** The name of the single feature emitted. */
    public static final String FEATURE = "text";

    @Config(mandatory = true, description = "The column holding the text.")
    private String fieldName;

    /**
     * Creates a processor for a column.
     *
     * @param fieldName the text column
     */
    public TextPresenceProcessor(String fieldName) {
        this.fieldName = fieldName;
    }

    /** For OLCUT. */
    private TextPresenceProcessor() { }

    @Override
    public String getFieldName() {
        return fieldName;
    }

    @Override
    public List<ColumnarFeature> process(String value) {
        return List.of(new ColumnarFeature(fieldName, FEATURE, 1.0));
    }

    @Override
    public GeneratedFeatureType getFeatureType() {
        return GeneratedFeatureType.BINARISED_CATEGORICAL;
    }

    @Override
    public TextPresenceProcessor copy(String newFieldName) {
        return new TextPresenceProcessor(newFieldName);
    }

    @Override
    public ConfiguredObjectProvenance getProvenance() {
        return new ConfiguredObjectProvenanceImpl(this, "FieldProcessor");
    }

    @Override
    public String toString() {
        return "TextPresenceProcessor(fieldName=" + fieldName + ")";
    }
}
