package org.tribuopeft.plugin.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.ConfigurableName;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Text examples from a JSON file: either JSON lines (one object per line) or one array of objects, each
 * object with a text key and an output key (a string, a number, or for multi-label outputs an array of
 * strings). The file is read and checked when the source is configured, and each example carries its
 * text and the line its object starts on, as {@link TextCsvDataSource} does for CSV.
 *
 * @param <T> the output type
 */
public final class TextJsonDataSource<T extends Output<T>> implements ConfigurableDataSource<T> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ConfigurableName
    private String name = "";

    @Config(mandatory = true, description = "The JSON file: JSON lines, or one array of objects.")
    private Path dataPath;

    @Config(mandatory = true, description = "Reads the output key: a LabelFactory, RegressionFactory or "
            + "MultiLabelFactory component.")
    private OutputFactory<T> outputFactory;

    @Config(description = "The key holding the texts.")
    private String textColumn = "text";

    @Config(mandatory = true, description = "The key holding the label or target of each text.")
    private String outputColumn;

    @Config(description = "The example metadata key the text is stored under (AdapterTrainer's textField).")
    private String textField = "text";

    @Config(description = "Objects whose output is blank, null or absent: false stops with the file and line; true "
            + "skips them, prints how many, and records the count in the provenance (skipped-rows).")
    private boolean skipBlankOutputs = false;

    private List<Example<T>> examples;
    private String sha256;
    private int skippedRows;

    /** For OLCUT. */
    private TextJsonDataSource() { }

    /**
     * A source over a JSON file, failing on blank outputs.
     *
     * @param dataPath the JSON file
     * @param outputFactory reads the output key
     * @param textColumn the text key
     * @param outputColumn the output key
     */
    public TextJsonDataSource(Path dataPath, OutputFactory<T> outputFactory, String textColumn, String outputColumn) {
        this.dataPath = dataPath;
        this.outputFactory = outputFactory;
        this.textColumn = textColumn;
        this.outputColumn = outputColumn;
        postConfig();
    }

    @Override
    public void postConfig() {
        for (Map.Entry<String, String> f : Map.of("textColumn", textColumn, "outputColumn", outputColumn,
                "textField", textField).entrySet()) {
            if (f.getValue() == null || f.getValue().isBlank()) {
                throw new PropertyException(name, f.getKey(), f.getKey() + " of data source '" + name
                        + "' must name a key, found '" + f.getValue() + "'");
            }
        }
        if (dataPath == null || !Files.isRegularFile(dataPath)) {
            throw new DataFileException(dataPath, "data file " + (dataPath == null ? "(unset)" : dataPath.toAbsolutePath())
                    + " (dataPath of data source '" + name + "') does not exist; point dataPath at your JSON file, "
                    + "e.g. --@" + overrideName() + ".dataPath my-texts.jsonl");
        }
        TextRows<T> rows = new TextRows<>(new TextRows.Settings<>(dataPath, overrideName(), outputFactory, textColumn,
                outputColumn, textField, skipBlankOutputs, "value", "key"));
        int objects = 0;
        try (JsonParser p = JSON.createParser(dataPath.toFile())) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new DataFileException(dataPath, "data file " + dataPath + " is empty: it needs one JSON object per "
                        + "example, as JSON lines or in one array");
            }
            boolean array = t == JsonToken.START_ARRAY;
            if (array) {
                t = p.nextToken();
            }
            while (t != null && !(array && t == JsonToken.END_ARRAY)) {
                long line = p.currentTokenLocation().getLineNr();
                if (t != JsonToken.START_OBJECT) {
                    throw new DataFileException(dataPath, dataPath + " line " + line + ": expected a JSON object such "
                            + "as {\"" + textColumn + "\": \"...\", \"" + outputColumn + "\": \"...\"}, found " + t);
                }
                JsonNode node = JSON.readTree(p);
                if (objects++ == 0) {
                    requireKeys(node, line);
                }
                rows.add(line, text(node, line), output(node, line));
                t = p.nextToken();
            }
        } catch (JsonProcessingException e) {
            throw new DataFileException(dataPath, dataPath + " is not valid JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new DataFileException(dataPath, "cannot read data file " + dataPath + ": " + e.getMessage(), e);
        }
        if (objects == 0) {
            throw new DataFileException(dataPath, "data file " + dataPath + " holds no objects; add one per example");
        }
        this.examples = rows.examples();
        this.skippedRows = rows.skipped();
        this.sha256 = TextFileProvenance.sha256(dataPath);
    }

    /** Checked on the first object only, like a CSV header: a wrong key name shows there. */
    private void requireKeys(JsonNode first, long line) {
        for (Map.Entry<String, String> key : Map.of("textColumn", textColumn, "outputColumn", outputColumn).entrySet()) {
            if (!first.has(key.getValue())) {
                List<String> keys = new ArrayList<>();
                first.fieldNames().forEachRemaining(keys::add);
                throw new DataFileException(dataPath, dataPath + " line " + line + ": the first object has no key '"
                        + key.getValue() + "' (" + key.getKey() + " of data source '" + name + "'); its keys are "
                        + keys + "; set " + key.getKey() + " to one of them");
            }
        }
    }

    private String text(JsonNode node, long line) {
        JsonNode v = node.get(textColumn);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new DataFileException(dataPath, dataPath + " line " + line + ": the " + textColumn + " value is a "
                    + v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT) + ", not a string");
        }
        return v.asText();
    }

    private String output(JsonNode node, long line) {
        JsonNode v = node.get(outputColumn);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(item -> items.add(item.asText()));
            return String.join(",", items);
        }
        if (v.isContainerNode()) {
            throw new DataFileException(dataPath, dataPath + " line " + line + ": the " + outputColumn + " value is an "
                    + "object; use a string, a number, or an array of strings");
        }
        return v.asText();
    }

    private String overrideName() {
        return name.isEmpty() ? "source" : name;
    }

    /** The file read. */
    public Path dataPath() {
        return dataPath;
    }

    /** How many objects were skipped for a blank output (0 unless skipBlankOutputs is set). */
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
        return "TextJsonDataSource(dataPath=" + dataPath + ", textColumn=" + textColumn + ", outputColumn="
                + outputColumn + ", skipBlankOutputs=" + skipBlankOutputs + ")";
    }
}
