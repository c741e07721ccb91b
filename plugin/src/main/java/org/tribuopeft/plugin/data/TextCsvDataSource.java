package org.tribuopeft.plugin.data;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.ConfigurableName;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Text examples from a CSV file with a text column and an output column (a label, a number, or
 * comma-separated labels, as the output factory reads them). The file is read and checked when the
 * source is configured, so that a missing column or a blank cell is reported, by file and line, before
 * any training starts. Each example carries its text and its source line in metadata.
 *
 * @param <T> the output type
 */
public final class TextCsvDataSource<T extends Output<T>> implements ConfigurableDataSource<T> {
    @ConfigurableName
    private String name = "";

    @Config(mandatory = true, description = "The CSV file, UTF-8, with a header line naming its columns.")
    private Path dataPath;

    @Config(mandatory = true, description = "Reads the output column: a LabelFactory, RegressionFactory or "
            + "MultiLabelFactory component.")
    private OutputFactory<T> outputFactory;

    @Config(description = "The column holding the texts.")
    private String textColumn = "text";

    @Config(mandatory = true, description = "The column holding the label or target of each text.")
    private String outputColumn;

    @Config(description = "The example metadata key the text is stored under (AdapterTrainer's textField).")
    private String textField = "text";

    @Config(description = "Field separator: ',' for CSV, ';' for European spreadsheets, a tab for TSV.")
    private char separator = ',';

    @Config(description = "Quote character around fields that contain the separator or a newline.")
    private char quote = '"';

    @Config(description = "Rows whose output cell is blank: false stops with the file and line; true skips them, "
            + "prints how many, and records the count in the provenance (skipped-rows).")
    private boolean skipBlankOutputs = false;

    private List<Example<T>> examples;
    private String sha256;
    private int skippedRows;

    /** For OLCUT. */
    private TextCsvDataSource() { }

    /**
     * A source over a CSV file, failing on blank output cells.
     *
     * @param dataPath the CSV file
     * @param outputFactory reads the output column
     * @param textColumn the text column
     * @param outputColumn the output column
     */
    public TextCsvDataSource(Path dataPath, OutputFactory<T> outputFactory, String textColumn, String outputColumn) {
        this(dataPath, outputFactory, textColumn, outputColumn, false);
    }

    /**
     * A source over a CSV file.
     *
     * @param dataPath the CSV file
     * @param outputFactory reads the output column
     * @param textColumn the text column
     * @param outputColumn the output column
     * @param skipBlankOutputs whether rows with a blank output are skipped (and counted) rather than an error
     */
    public TextCsvDataSource(Path dataPath, OutputFactory<T> outputFactory, String textColumn, String outputColumn,
                             boolean skipBlankOutputs) {
        this.dataPath = dataPath;
        this.outputFactory = outputFactory;
        this.textColumn = textColumn;
        this.outputColumn = outputColumn;
        this.skipBlankOutputs = skipBlankOutputs;
        postConfig();
    }

    @Override
    public void postConfig() {
        for (Map.Entry<String, String> f : Map.of("textColumn", textColumn, "outputColumn", outputColumn,
                "textField", textField).entrySet()) {
            if (f.getValue() == null || f.getValue().isBlank()) {
                throw new PropertyException(name, f.getKey(), f.getKey() + " of data source '" + name
                        + "' must name a column, found '" + f.getValue() + "'");
            }
        }
        if (dataPath == null || !java.nio.file.Files.exists(dataPath)) {
            throw new DataFileException(dataPath, "data file " + (dataPath == null ? "(unset)" : dataPath.toAbsolutePath())
                    + " (dataPath of data source '" + name + "') does not exist; point dataPath at your CSV file, "
                    + "e.g. --@" + overrideName() + ".dataPath my-texts.csv");
        }
        CsvRecords csv = CsvRecords.read(dataPath, separator, quote);
        int text = requireColumn(csv, "textColumn", textColumn);
        int output = requireColumn(csv, "outputColumn", outputColumn);
        if (csv.records().isEmpty()) {
            throw new DataFileException(dataPath, "data file " + dataPath + " has a header " + csv.header()
                    + " but no rows below it; add one line per example");
        }
        TextRows<T> rows = new TextRows<>(new TextRows.Settings<>(dataPath, overrideName(), outputFactory, textColumn,
                outputColumn, textField, skipBlankOutputs, "cell", "column"));
        for (CsvRecords.Record r : csv.records()) {
            rows.add(r.line(), r.cells()[text], r.cells()[output]);
        }
        this.examples = rows.examples();
        this.skippedRows = rows.skipped();
        this.sha256 = TextFileProvenance.sha256(dataPath);
    }

    private int requireColumn(CsvRecords csv, String field, String column) {
        int i = csv.column(column);
        if (i >= 0) {
            return i;
        }
        String hint = "";
        if (csv.header().size() == 1) {
            for (char c : new char[] {';', '\t', '|', ','}) {
                if (c != separator && csv.header().get(0).indexOf(c) >= 0) {
                    hint = c == '\t'
                            ? "; the header looks separated by tabs: set separator to a tab (&#9; in XML)"
                            : "; the header looks separated by '" + c + "': set separator (--@" + overrideName()
                                    + ".separator " + c + ")";
                    break;
                }
            }
        }
        throw new DataFileException(dataPath, "data file " + dataPath + " has no column '" + column + "' (" + field
                + " of data source '" + name + "'); its columns are " + csv.header() + hint
                + (hint.isEmpty() ? "; set " + field + " to one of them" : ""));
    }

    private String overrideName() {
        return name.isEmpty() ? "source" : name;
    }

    /** The file read. */
    public Path dataPath() {
        return dataPath;
    }

    /** How many rows were skipped for a blank output cell (0 unless skipBlankOutputs is set). */
    public int skippedRows() {
        return skippedRows;
    }

    @Override
    public OutputFactory<T> getOutputFactory() {
        return outputFactory;
    }

    @Override
    public Iterator<Example<T>> iterator() {
        return examples.iterator();
    }

    @Override
    public ConfiguredDataSourceProvenance getProvenance() {
        return new TextFileProvenance(this, sha256, skippedRows);
    }

    @Override
    public String toString() {
        return "TextCsvDataSource(dataPath=" + dataPath + ", textColumn=" + textColumn + ", outputColumn="
                + outputColumn + ", skipBlankOutputs=" + skipBlankOutputs + ")";
    }
}
