package org.tribuopeft.plugin;

import org.tribuo.Example;
import org.tribuo.Output;
import org.tribuo.OutputFactory;
import org.tribuo.impl.ArrayExample;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the text of examples from their metadata, failing with the example's source (file and line, when
 * the data source recorded it) or else its position when the text is missing or empty.
 */
public final class TextExamples {
    /** Metadata key of an example's origin, such as {@code texts.csv line 7}, set by the data sources that know it. */
    public static final String SOURCE_KEY = "tribuo-peft.source";

    private TextExamples() {}

    /**
     * An example to predict from a raw string: the text under the metadata key {@code key} (the model's
     * {@code textField()}), the constant feature Tribuo needs, and the factory's unknown output.
     *
     * @param key the metadata key the model reads, usually {@code text}
     * @param text the text to predict
     * @param factory the output factory, e.g. {@code new LabelFactory()}
     */
    public static <T extends Output<T>> Example<T> of(String key, String text, OutputFactory<T> factory) {
        ArrayExample<T> example = new ArrayExample<>(factory.getUnknownOutput(), Map.of(key, text));
        example.add(TextPresenceProcessor.FEATURE, 1.0);
        return example;
    }

    /**
     * Where an example came from, for messages: its recorded source, or its position.
     *
     * @param example the example
     * @param index the example's position in what is being read
     */
    public static String where(Example<?> example, int index) {
        return example.getMetadataValue(SOURCE_KEY).map(Object::toString).orElse("example " + index);
    }

    /**
     * The text of one example.
     *
     * @param example the example
     * @param key the metadata key
     * @param index the example's position, named in the error when the example has no recorded source
     * @throws IllegalArgumentException when the key is absent, not a string, or blank
     */
    public static String text(Example<?> example, String key, int index) {
        Optional<Object> value = example.getMetadataValue(key);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(where(example, index) + " has no metadata '" + key
                    + "' (its metadata keys: " + example.getMetadata().keySet()
                    + "); put the text there, e.g. with TextRowProcessors.forText");
        }
        if (!(value.get() instanceof String s)) {
            throw new IllegalArgumentException(where(example, index) + " metadata '" + key + "' is a "
                    + value.get().getClass().getSimpleName() + ", not text");
        }
        if (s.isBlank()) {
            throw new IllegalArgumentException(where(example, index) + " has an empty text in metadata '" + key + "'");
        }
        return s;
    }

    /** The texts of examples in order. */
    public static <T extends Output<T>> List<String> texts(Iterable<Example<T>> examples, String key) {
        List<String> out = new ArrayList<>();
        int i = 0;
        for (Example<T> e : examples) {
            out.add(text(e, key, i++));
        }
        return out;
    }
}
