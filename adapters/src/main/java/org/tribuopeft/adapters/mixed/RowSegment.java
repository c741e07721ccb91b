package org.tribuopeft.adapters.mixed;

import org.tribuopeft.adapters.method.AdapterLayer;

import java.util.Map;

/**
 * A run of consecutive rows of a mixed-adapter batch that belong to one adapter: rows {@code start}
 * (inclusive) to {@code end} (exclusive) along the batch axis, and that adapter's layers by full module name
 * ({@code encoder.layer.0.attention.self.query}); an empty map means the bare base for those rows.
 *
 * @param start first row
 * @param end one past the last row
 * @param layers the adapter's layers by module name
 */
public record RowSegment(int start, int end, Map<String, AdapterLayer> layers) {
    /** Checks the range. */
    public RowSegment {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("row segment [" + start + ", " + end + ") is empty or negative");
        }
        layers = Map.copyOf(layers);
    }

    /** Number of rows. */
    public int rows() {
        return end - start;
    }
}
