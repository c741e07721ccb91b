package org.tribuopeft.plugin;

import org.tribuo.Output;
import org.tribuo.data.columnar.FieldExtractor;
import org.tribuo.data.columnar.FieldProcessor;
import org.tribuo.data.columnar.ResponseProcessor;
import org.tribuo.data.columnar.RowProcessor;
import org.tribuo.data.columnar.extractors.IdentityExtractor;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds the row processor a text dataset needs: the text column copied into metadata, plus one constant feature. */
public final class TextRowProcessors {
    private TextRowProcessors() {}

    /**
     * A row processor reading text from {@code textColumn} into the metadata key {@code metadataKey}.
     *
     * @param textColumn the CSV/JSON column holding the text
     * @param metadataKey the metadata key AdapterTrainer reads ({@code text} by default)
     * @param response how the output column is read
     */
    public static <T extends Output<T>> RowProcessor<T> forText(String textColumn, String metadataKey,
                                                                ResponseProcessor<T> response) {
        List<FieldExtractor<?>> metadata = List.of(new IdentityExtractor(textColumn, metadataKey));
        Map<String, FieldProcessor> fields = Map.of(textColumn, new TextPresenceProcessor(textColumn));
        return new RowProcessor<>(metadata, null, response, fields, Set.of());
    }
}
