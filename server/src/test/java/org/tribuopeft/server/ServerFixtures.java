package org.tribuopeft.server;

import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.method.AdapterMethod;
import org.tribuopeft.adapters.testing.SyntheticTexts;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.adapters.train.LabelledText;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Tiny trained adapters on the tiny test base, and a real HTTP client for the server tests. */
final class ServerFixtures {
    /** The tiny random base every test adapter is trained on. */
    static final String BASE = TinyBert.folder(21).toString();

    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ServerFixtures() {}

    /** A two-class model trained for two epochs on synthetic texts. */
    static AdapterModel<Label> train(AdapterMethod method, long seed) {
        AdapterTrainer<Label> t = new AdapterTrainer<Label>(BASE, method, 24, 8, 2, 5e-3, seed).withProgressSeconds(0);
        return t.train(labels(32, seed));
    }

    static MutableDataset<Label> labels(int n, long seed) {
        MutableDataset<Label> ds = new MutableDataset<>(new SimpleDataSourceProvenance("tiny",
                OffsetDateTime.parse("2026-01-01T00:00:00Z"), new LabelFactory()), new LabelFactory());
        examples(n, seed).forEach(ds::add);
        return ds;
    }

    static List<Example<Label>> examples(int n, long seed) {
        List<Example<Label>> out = new ArrayList<>();
        for (LabelledText t : SyntheticTexts.twoClass(n, seed)) {
            ArrayExample<Label> e = new ArrayExample<>(new Label(t.target()[1] > 0 ? "neg" : "pos"),
                    Map.of("text", t.text()));
            e.add(TextPresenceProcessor.FEATURE, 1.0);
            out.add(e);
        }
        return out;
    }

    /** A request and its answer. */
    record Answer(int status, String body, HttpResponse<String> response) {}

    static Answer send(String method, String url, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body(), r);
    }
}
