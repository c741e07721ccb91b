package org.tribuopeft.provenance;

import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceException;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import com.oracle.labs.mlrg.olcut.util.Pair;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An OLCUT object provenance whose fields are a name → provenance map: the shape every provenance
 * class of this project shares. Subclasses add typed accessors and the public {@code (Map)}
 * constructor OLCUT calls when unmarshalling.
 */
public abstract class MapBackedProvenance implements ObjectProvenance {
    private static final long serialVersionUID = 1L;

    /** The fields, sorted by name so that equal provenances iterate identically. */
    protected final Map<String, Provenance> fields;

    /**
     * Stores the fields, dropping the {@code class-name} entry a marshalled map carries.
     *
     * @param fields field name to value
     */
    protected MapBackedProvenance(Map<String, Provenance> fields) {
        TreeMap<String, Provenance> copy = new TreeMap<>(fields);
        copy.remove(CLASS_NAME);
        this.fields = Collections.unmodifiableMap(copy);
    }

    @Override
    public String getClassName() {
        return getClass().getName();
    }

    /** A field's value, or a {@link ProvenanceException} naming the field and this class. */
    protected <T extends Provenance> T field(String name, Class<T> type) {
        Provenance p = fields.get(name);
        if (p == null) {
            throw new ProvenanceException("field '" + name + "' missing from " + getClass().getSimpleName());
        }
        if (!type.isInstance(p)) {
            throw new ProvenanceException("field '" + name + "' of " + getClass().getSimpleName() + " should be a "
                    + type.getSimpleName() + " but is " + p.getClass().getSimpleName());
        }
        return type.cast(p);
    }

    /** The raw field map. */
    public Map<String, Provenance> fields() {
        return fields;
    }

    @Override
    public Iterator<Pair<String, Provenance>> iterator() {
        List<Pair<String, Provenance>> list = new ArrayList<>();
        list.add(new Pair<>(CLASS_NAME, new StringProvenance(CLASS_NAME, getClassName())));
        fields.forEach((k, v) -> list.add(new Pair<>(k, v)));
        return list.iterator();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || getClass() != o.getClass()) {
            return false;
        }
        return fields.equals(((MapBackedProvenance) o).fields);
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass().getName(), fields);
    }

    @Override
    public String toString() {
        return generateString(getClass().getSimpleName());
    }
}
