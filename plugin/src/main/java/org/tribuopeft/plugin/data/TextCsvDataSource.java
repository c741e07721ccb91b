package org.tribuopeft.plugin.data;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.ConfigurableName;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;
import org.tribuo.regression.Regressor;
import org.tribuopeft.plugin.TextExamples;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Text examples from a CSV file with a text column and an output column (a label, a number, or
 * comma-separated labels, as the output factory reads them). The file is read and checked when the
 * source is configured, so that a missing column or a blank cell is reported, by file and line, before
 * any training starts. Each example carries its text and its source line in metadata.
 *
 * @param <T> the output type
 */
public final class TextCsvDataSource<T extends Output<T>> implements ConfigurableDataSource<T> {
    private static final Logger LOG = Logger.getLogger(TextCsvDataSource.class.getName());

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
        List<Example<T>> read = new ArrayList<>(csv.records().size());
        List<Long> skipped = new ArrayList<>();
        for (CsvRecords.Record r : csv.records()) {
            String where = dataPath + " line " + r.line();
            String value = r.cells()[output].trim();
            if (value.isEmpty()) {
                if (skipBlankOutputs) {
                    skipped.add(r.line());
                    continue;
                }
                throw new DataFileException(dataPath, where + ": the " + outputColumn + " cell is blank; fill it in, "
                        + "delete the row, or set skipBlankOutputs to true (--@" + overrideName()
                        + ".skipBlankOutputs true) to skip such rows");
            }
            String textValue = r.cells()[text];
            if (textValue.isBlank()) {
                throw new DataFileException(dataPath, where + ": the " + textColumn + " cell is blank; every row "
                        + "needs a text: fill it in or delete the row");
            }
            ArrayExample<T> e = new ArrayExample<>(parseOutput(value, where),
                    Map.of(textField, textValue, TextExamples.SOURCE_KEY, where));
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            read.add(e);
        }
        if (read.isEmpty()) {
            throw new DataFileException(dataPath, "every row of " + dataPath + " has a blank " + outputColumn
                    + " cell, so no examples are left");
        }
        if (!skipped.isEmpty()) {
            LOG.warning(dataPath + ": skipped " + skipped.size() + " row(s) with a blank " + outputColumn
                    + " cell (lines " + abbreviate(skipped) + ")");
        }
        this.examples = Collections.unmodifiableList(read);
        this.skippedRows = skipped.size();
        this.sha256 = TextCsvProvenance.sha256(dataPath);
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

    private T parseOutput(String value, String where) {
        T out;
        try {
            out = outputFactory.generateOutput(value);
        } catch (RuntimeException e) {
            throw new DataFileException(dataPath, where + ": '" + value + "' in column " + outputColumn + " is not a "
                    + "valid output for " + outputFactory.getClass().getSimpleName() + " (" + e.getMessage() + ")", e);
        }
        if (out instanceof Regressor r) {
            for (double v : r.getValues()) {
                if (!Double.isFinite(v)) {
                    throw new DataFileException(dataPath, where + ": '" + value + "' in column " + outputColumn
                            + " is not a finite number");
                }
            }
        }
        return out;
    }

    private String overrideName() {
        return name.isEmpty() ? "source" : name;
    }

    private static String abbreviate(List<Long> lines) {
        List<Long> first = lines.subList(0, Math.min(10, lines.size()));
        String s = first.toString().replaceAll("[\\[\\]]", "");
        return lines.size() > first.size() ? s + ", ..." : s;
    }

    /** The file read. */
    public Path dataPath() {
        return dataPath;
    }

    /** How many rows were skipped for a blank output cell (0 unless skipBlankOutputs is set). */
    public int skippedRows() {
        return skippedRows;
    }

    /** SHA-256 of the file as read. */
    String sha256() {
        return sha256;
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
        return new TextCsvProvenance(this);
    }

    @Override
    public String toString() {
        return "TextCsvDataSource(dataPath=" + dataPath + ", textColumn=" + textColumn + ", outputColumn="
                + outputColumn + ", skipBlankOutputs=" + skipBlankOutputs + ")";
    }
}
