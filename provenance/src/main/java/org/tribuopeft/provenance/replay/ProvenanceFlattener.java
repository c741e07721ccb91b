package org.tribuopeft.provenance.replay;

import com.oracle.labs.mlrg.olcut.provenance.ListProvenance;
import com.oracle.labs.mlrg.olcut.provenance.MapProvenance;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.util.Pair;

import java.util.Map;
import java.util.TreeMap;

/** Turns a provenance tree into sorted {@code path → value} lines, so two provenances can be diffed field by field. */
public final class ProvenanceFlattener {
    private ProvenanceFlattener() {}

    /** Every leaf of the tree under a dotted path such as {@code trainer.method.rank}. */
    public static Map<String, String> flatten(ObjectProvenance root) {
        Map<String, String> out = new TreeMap<>();
        walk("", root, out);
        return out;
    }

    private static void walk(String path, Provenance p, Map<String, String> out) {
        if (p instanceof ObjectProvenance o) {
            for (Pair<String, Provenance> pair : o) {
                walk(join(path, pair.getA()), pair.getB(), out);
            }
        } else if (p instanceof ListProvenance<?> l) {
            int i = 0;
            for (Provenance item : l) {
                walk(join(path, "[" + i++ + "]"), item, out);
            }
            if (i == 0) {
                out.put(path, "[]");
            }
        } else if (p instanceof MapProvenance<?> m) {
            for (Pair<String, ? extends Provenance> pair : m) {
                walk(join(path, pair.getA()), pair.getB(), out);
            }
            if (m.getMap().isEmpty()) {
                out.put(path, "{}");
            }
        } else {
            out.put(path, String.valueOf(p));
        }
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
