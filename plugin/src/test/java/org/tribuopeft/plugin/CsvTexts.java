package org.tribuopeft.plugin;

import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.train.LabelledText;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the synthetic texts as a CSV with "text" and "label" columns. */
final class CsvTexts {
    private CsvTexts() {}

    static Path write(Path file, int n, long seed) {
        StringBuilder sb = new StringBuilder("text,label\n");
        for (LabelledText t : SyntheticTexts.twoClass(n, seed)) {
            sb.append('"').append(t.text()).append("\",").append(t.target()[0] > 0 ? "pos" : "neg").append('\n');
        }
        try {
            Files.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
