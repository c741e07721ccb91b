package org.tribuopeft.plugin;

import org.tribuo.DataSource;
import org.tribuo.data.columnar.ColumnarIterator;
import org.tribuo.data.csv.CSVDataSource;
import org.tribuopeft.plugin.data.DataFileException;
import org.tribuopeft.provenance.replay.ProvenanceFlattener;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks the header of a file read by Tribuo's {@link CSVDataSource} once, before any row: a column that
 * its row processor names but the file lacks otherwise shows up as one "empty of features" warning per
 * row and then an empty dataset, never naming the column.
 */
final class CsvColumnsCheck {
    private CsvColumnsCheck() {}

    /**
     * Fails when the row processor of a CSV source names a column the file does not have.
     *
     * @param role what the data is, for messages ("training data", "test data")
     * @param source any data source; only {@link CSVDataSource} is checked
     * @throws DataFileException naming the file, the missing columns and the columns there are
     */
    static void check(String role, DataSource<?> source) {
        if (!(source instanceof CSVDataSource<?> csv)) {
            return;
        }
        Map<String, String> config = ProvenanceFlattener.flatten(csv.getProvenance());
        String file = config.getOrDefault("dataPath", "?");
        Path path = file.startsWith("file:") ? Paths.get(java.net.URI.create(file)) : Paths.get(file);
        List<String> header;
        ColumnarIterator rows = csv.rowIterator();
        header = rows.getFields();
        if (rows instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // Only the header was wanted; a failure to close a read-only file changes nothing.
            }
        }
        if (header == null || header.isEmpty()) {
            throw new DataFileException(path, role + ": data file " + path + " is empty: it needs a header line naming "
                    + "its columns, then one line per example");
        }
        Set<String> missing = new TreeSet<>();
        for (Map.Entry<String, String> e : config.entrySet()) {
            String key = e.getKey();
            boolean names = key.endsWith(".fieldName") || key.matches(".*\\.fieldNames\\.?\\[\\d+]");
            if (key.startsWith("rowProcessor.") && names && !key.contains("regexMappingProcessors")
                    && !e.getValue().equals("null") && !header.contains(e.getValue())) {
                missing.add(e.getValue());
            }
        }
        if (!missing.isEmpty()) {
            throw new DataFileException(path, role + ": data file " + path + " has no column" + (missing.size() > 1
                    ? "s " : " ") + String.join(", ", missing.stream().map(m -> "'" + m + "'").toList())
                    + ", which its row processor reads; its columns are " + new ArrayList<>(header)
                    + "; rename the column or change the row processor's fieldName");
        }
    }
}
