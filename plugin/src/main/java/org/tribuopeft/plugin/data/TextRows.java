package org.tribuopeft.plugin.data;

import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.regression.Regressor;
import org.tribuopeft.plugin.TextExamples;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Turns the rows of a text data file into examples, one job shared by the CSV and JSON sources: a blank
 * output is an error naming the file and line, or a skipped and counted row; a blank text is an error;
 * the output is read by the output factory; each example carries its text and its origin in metadata.
 *
 * @param <T> the output type
 */
final class TextRows<T extends Output<T>> {
    private static final Logger LOG = Logger.getLogger(TextRows.class.getName());

    /**
     * What the rows are read with and how blank outputs are treated.
     *
     * @param file the data file
     * @param source the configured name of the data source, for the override in messages
     * @param factory reads the output
     * @param textName the column or key holding the text
     * @param outputName the column or key holding the output
     * @param textField the metadata key the text is stored under
     * @param skipBlankOutputs whether rows with a blank output are skipped rather than an error
     * @param unit what holds a value in this format ("cell", "value"), for messages
     * @param container what names a value in this format ("column", "key"), for messages
     */
    record Settings<T extends Output<T>>(Path file, String source, OutputFactory<T> factory, String textName,
                                         String outputName, String textField, boolean skipBlankOutputs, String unit,
                                         String container) {}

    private final Settings<T> s;
    private final List<Example<T>> examples = new ArrayList<>();
    private final List<Long> skipped = new ArrayList<>();

    TextRows(Settings<T> settings) {
        this.s = settings;
    }

    /**
     * Adds one row.
     *
     * @param line the 1-based line the row starts on
     * @param text the text, or null when absent
     * @param output the output as text, or null when absent
     * @throws DataFileException for a blank text, a blank output (unless skipped) or an unreadable output
     */
    void add(long line, String text, String output) {
        String where = s.file() + " line " + line;
        String value = output == null ? "" : output.trim();
        if (value.isEmpty()) {
            if (s.skipBlankOutputs()) {
                skipped.add(line);
                return;
            }
            throw new DataFileException(s.file(), where + ": the " + s.outputName() + " " + s.unit() + " is blank; fill "
                    + "it in, delete the row, or set skipBlankOutputs to true (--@" + s.source()
                    + ".skipBlankOutputs true) to skip such rows");
        }
        if (text == null || text.isBlank()) {
            throw new DataFileException(s.file(), where + ": the " + s.textName() + " " + s.unit() + " is blank; every "
                    + "row needs a text: fill it in or delete the row");
        }
        ArrayExample<T> e = new ArrayExample<>(parse(value, where), Map.of(s.textField(), text,
                TextExamples.SOURCE_KEY, where));
        e.add(TextPresenceProcessor.FEATURE, 1.0);
        examples.add(e);
    }

    private T parse(String value, String where) {
        T out;
        try {
            out = s.factory().generateOutput(value);
        } catch (RuntimeException e) {
            throw new DataFileException(s.file(), where + ": '" + value + "' in " + s.container() + " " + s.outputName()
                    + " is not a valid output for " + s.factory().getClass().getSimpleName() + " (" + e.getMessage()
                    + ")", e);
        }
        if (out instanceof Regressor r) {
            for (double v : r.getValues()) {
                if (!Double.isFinite(v)) {
                    throw new DataFileException(s.file(), where + ": '" + value + "' in " + s.container() + " "
                            + s.outputName() + " is not a finite number");
                }
            }
        }
        return out;
    }

    /**
     * The examples read, after warning once about skipped rows.
     *
     * @throws DataFileException when no row is left
     */
    List<Example<T>> examples() {
        if (examples.isEmpty()) {
            throw new DataFileException(s.file(), "every row of " + s.file() + " has a blank " + s.outputName() + " "
                    + s.unit() + ", so no examples are left");
        }
        if (!skipped.isEmpty()) {
            List<Long> first = skipped.subList(0, Math.min(10, skipped.size()));
            String lines = first.toString().replaceAll("[\\[\\]]", "") + (skipped.size() > first.size() ? ", ..." : "");
            LOG.warning(s.file() + ": skipped " + skipped.size() + " row(s) with a blank " + s.outputName() + " "
                    + s.unit() + " (lines " + lines + ")");
        }
        return Collections.unmodifiableList(examples);
    }

    /** How many rows were skipped for a blank output. */
    int skipped() {
        return skipped.size();
    }
}
