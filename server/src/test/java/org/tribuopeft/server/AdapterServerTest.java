package org.tribuopeft.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuopeft.adapters.dora.DoraConfig;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.prompt.PromptTuningConfig;
import org.tribuopeft.adapters.vera.VeraConfig;
import org.tribuopeft.plugin.AdapterExports;
import org.tribuopeft.plugin.AdapterModel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adapter server on an ephemeral loopback port, called with {@code java.net.http}: predictions equal each
 * adapter's own {@code predict}, every error has its status, first requests load once, a small cache evicts.
 */
class AdapterServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path folder;
    static Map<String, AdapterModel<Label>> models = new LinkedHashMap<>();
    static AdapterServer server;

    @BeforeAll
    static void start() throws Exception {
        models.put("support-lora", ServerFixtures.train(new LoraConfig(4, 8, 0.0, List.of("query", "value")), 1));
        models.put("sales-dora", ServerFixtures.train(new DoraConfig(2, 4, 0.0, List.of("query", "value", "dense")), 2));
        models.put("legal-vera", ServerFixtures.train(new VeraConfig(8, 0.1, 0.0, List.of("query", "value")), 3));
        // prompt tuning cannot share a forward pass (it adds positions): the scheduler runs it as its own group
        models.put("faq-prompt", ServerFixtures.train(new PromptTuningConfig(3, ""), 4));
        models.get("faq-prompt").serializeToFile(folder.resolve("faq-prompt.tribuo"));
        // the three layouts a folder may hold: ID.tribuo, ID/model.tribuo, and a PEFT folder ID/
        models.get("support-lora").serializeToFile(folder.resolve("support-lora.tribuo"));
        Files.createDirectories(folder.resolve("sales-dora"));
        models.get("sales-dora").serializeToFile(folder.resolve("sales-dora").resolve("model.tribuo"));
        AdapterExports.write(models.get("legal-vera"), folder.resolve("legal-vera"), PeftKeyStyle.SEQUENCE_CLASSIFICATION);
        Files.write(folder.resolve("broken.tribuo"), "not a model at all".getBytes(StandardCharsets.UTF_8));
        server = AdapterServer.start(ServerSettings.defaults(ServerFixtures.BASE, List.of(folder)).withPort(0)
                .withBatchLimits(4096, 20).withRequestLimits(256, 16, 4096));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        models.values().forEach(AdapterModel::close);
    }

    static String predictBody(String adapter, List<String> texts) {
        ObjectNode n = JSON.createObjectNode();
        n.put("adapter", adapter);
        ArrayNode a = n.putArray("texts");
        texts.forEach(a::add);
        return n.toString();
    }

    @Test
    void predictionsOfFourMethodsSentTogetherEqualEachModelsOwnPredict() throws Exception {
        List<Example<Label>> examples = ServerFixtures.examples(6, 9);
        List<String> texts = examples.stream().map(e -> (String) e.getMetadataValue("text").orElseThrow()).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Map<String, CompletableFuture<ServerFixtures.Answer>> answers = new LinkedHashMap<>();
            for (String id : models.keySet()) {
                answers.put(id, CompletableFuture.supplyAsync(() -> {
                    try {
                        return ServerFixtures.send("POST", server.url() + "/v1/predict", predictBody(id, texts), null);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
            double worst = 0;
            for (Map.Entry<String, CompletableFuture<ServerFixtures.Answer>> e : answers.entrySet()) {
                ServerFixtures.Answer a = e.getValue().get();
                assertEquals(200, a.status(), a.body());
                JsonNode preds = JSON.readTree(a.body()).get("predictions");
                List<Prediction<Label>> own = models.get(e.getKey()).predict(examples);
                assertEquals(own.size(), preds.size());
                for (int i = 0; i < own.size(); i++) {
                    assertEquals(own.get(i).getOutput().getLabel(), preds.get(i).get("label").asText(),
                            e.getKey() + " text " + i);
                    for (var s : own.get(i).getOutputScores().entrySet()) {
                        worst = Math.max(worst, Math.abs(s.getValue().getScore()
                                - preds.get(i).get("scores").get(s.getKey()).asDouble()));
                    }
                }
            }
            System.out.printf("server vs each model's predict: max |diff| %.2e%n", worst);
            assertTrue(worst <= 1e-6, "server predictions differ from predict by " + worst);
        } finally {
            pool.shutdownNow();
        }
        JsonNode methods = JSON.readTree(ServerFixtures.send("GET", server.url() + "/v1/adapters", null, null).body());
        List<String> resident = new ArrayList<>();
        methods.get("resident").forEach(r -> resident.add(r.get("id").asText() + "=" + r.get("method").asText()));
        assertTrue(resident.containsAll(List.of("support-lora=lora", "sales-dora=dora", "legal-vera=vera",
                "faq-prompt=prompt")),
                resident.toString());
    }

    @Test
    void badRequestsGetTheirStatusAndTheServerKeepsServing() throws Exception {
        String url = server.url() + "/v1/predict";
        assertStatus(404, ServerFixtures.send("POST", url, predictBody("nobody", List.of("x")), null), "no adapter 'nobody'");
        assertStatus(400, ServerFixtures.send("POST", url, "{\"adapter\": \"support-lora\", \"texts\": [", null),
                "malformed JSON");
        assertStatus(400, ServerFixtures.send("POST", url, "{\"adapter\": \"support-lora\", \"texts\": [3]}", null),
                "texts[0] is NUMBER");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            many.add("t");
        }
        assertStatus(413, ServerFixtures.send("POST", url, predictBody("support-lora", many), null),
                "17 texts in one request; the limit is 16");
        assertStatus(413, ServerFixtures.send("POST", url, predictBody("support-lora", List.of("x".repeat(5000))), null),
                "the limit is 4096");
        assertStatus(400, ServerFixtures.send("POST", url, predictBody("../../etc/passwd", List.of("x")), null),
                "is not a plain name");
        assertStatus(400, ServerFixtures.send("POST", server.url() + "/v1/adapters/..passwd/load", null, null),
                "is not a plain name");
        assertStatus(422, ServerFixtures.send("POST", url, predictBody("broken", List.of("x")), null),
                "adapter 'broken' (" + folder.toRealPath().resolve("broken.tribuo") + ") cannot be served");
        assertStatus(404, ServerFixtures.send("GET", server.url() + "/v2/nothing", null, null), "no route");
        assertStatus(405, ServerFixtures.send("GET", url, null, null), "no route GET /v1/predict");
        assertStatus(404, ServerFixtures.send("DELETE", server.url() + "/v1/adapters/nobody", null, null),
                "is not resident");
        // still serving after all of that
        assertEquals(200, ServerFixtures.send("GET", server.url() + "/health", null, null).status());
        assertEquals(200, ServerFixtures.send("POST", url, predictBody("support-lora", List.of("fine")), null).status());
        String metrics = ServerFixtures.send("GET", server.url() + "/metrics", null, null).body();
        assertTrue(metrics.contains("tribuo_peft_requests_total{route=\"POST /v1/predict\",code=\"422\"} "), metrics);
        assertTrue(metrics.contains("# TYPE tribuo_peft_batch_rows histogram"), metrics);
        assertTrue(metrics.contains("tribuo_peft_adapter_load_failures_total "), metrics);
    }

    static void assertStatus(int status, ServerFixtures.Answer a, String messagePart) throws Exception {
        assertEquals(status, a.status(), a.body());
        JsonNode n = JSON.readTree(a.body());
        assertEquals(status, n.get("status").asInt());
        assertTrue(n.get("error").asText().contains(messagePart), n.get("error").asText());
    }

    @Test
    void everyRouteIsInTheOpenApiDocument() throws Exception {
        String doc = ServerFixtures.send("GET", server.url() + "/openapi", null, null).body();
        Map<String, List<String>> paths = new LinkedHashMap<>();
        String current = null;
        for (String line : doc.split("\n")) {
            if (line.startsWith("  /")) {
                current = line.trim().replaceAll(":$", "");
                paths.put(current, new ArrayList<>());
            } else if (!line.startsWith("   ") && !line.startsWith("  /") && !line.isBlank()) {
                current = line.startsWith("paths:") ? null : current;
            } else if (current != null && line.matches("    [a-z]+:\\s*")) {
                paths.get(current).add(line.trim().replace(":", "").toUpperCase(java.util.Locale.ROOT));
            }
        }
        for (String route : AdapterServer.ROUTES) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1);
            assertTrue(paths.containsKey(path), path + " is not in openapi.yaml: " + paths.keySet());
            assertTrue(paths.get(path).contains(method), route + " is not in openapi.yaml: " + paths);
        }
        assertEquals(AdapterServer.ROUTES.size(), paths.values().stream().mapToInt(List::size).sum(),
                "openapi.yaml documents a route the server does not have: " + paths);
    }

    @Test
    void concurrentFirstRequestsLoadOnceAndASmallCacheEvicts(@TempDir Path dir) throws Exception {
        models.get("support-lora").serializeToFile(dir.resolve("a.tribuo"));
        models.get("sales-dora").serializeToFile(dir.resolve("b.tribuo"));
        long oneAdapter;
        try (AdapterServer probe = AdapterServer.start(ServerSettings.defaults(ServerFixtures.BASE, List.of(dir))
                .withPort(0))) {
            oneAdapter = probe.cache().load("b").bytes();
        }
        // room for the larger adapter (DoRA) but not for both
        try (AdapterServer small = AdapterServer.start(ServerSettings.defaults(ServerFixtures.BASE, List.of(dir))
                .withPort(0).withCacheBytes(oneAdapter + 16))) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<CompletableFuture<ServerFixtures.Answer>> all = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    all.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return ServerFixtures.send("POST", small.url() + "/v1/predict",
                                    predictBody("a", List.of("first")), null);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }, pool));
                }
                for (CompletableFuture<ServerFixtures.Answer> f : all) {
                    assertEquals(200, f.get().status(), f.get().body());
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, small.metrics().loads(), "eight concurrent first requests must load 'a' once");
            assertEquals(0, small.metrics().evictions());
            assertEquals(200, ServerFixtures.send("POST", small.url() + "/v1/predict", predictBody("b", List.of("x")),
                    null).status());
            assertEquals(2, small.metrics().loads());
            assertEquals(1, small.metrics().evictions(), "loading 'b' must evict 'a'");
            assertFalse(small.cache().isResident("a"));
            assertTrue(small.cache().isResident("b"));
            assertTrue(small.cache().residentBytes() <= oneAdapter + 16);
            // 'a' comes back on its next request and predicts as before
            ServerFixtures.Answer again = ServerFixtures.send("POST", small.url() + "/v1/predict",
                    predictBody("a", List.of("first")), null);
            assertEquals(200, again.status());
            double expected = models.get("support-lora").predict(ServerFixtures.examples(1, 1).stream()
                    .map(e -> withText(e, "first")).toList()).get(0).getOutputScores().get("pos").getScore();
            assertEquals(expected, JSON.readTree(again.body()).get("predictions").get(0).get("scores").get("pos")
                    .asDouble(), 1e-6);
            assertEquals(3, small.metrics().loads());
        }
    }

    private static Example<Label> withText(Example<Label> e, String text) {
        org.tribuo.impl.ArrayExample<Label> x = new org.tribuo.impl.ArrayExample<>(e.getOutput(), Map.of("text", text));
        x.add(org.tribuopeft.plugin.TextPresenceProcessor.FEATURE, 1.0);
        return x;
    }

    @Test
    void aTokenGuardsEveryRouteButHealth(@TempDir Path dir) throws Exception {
        models.get("support-lora").serializeToFile(dir.resolve("a.tribuo"));
        try (AdapterServer guarded = AdapterServer.start(ServerSettings.defaults(ServerFixtures.BASE, List.of(dir))
                .withPort(0).withToken("s3cret"))) {
            ServerFixtures.Answer none = ServerFixtures.send("GET", guarded.url() + "/v1/adapters", null, null);
            assertStatus(401, none, "bearer token");
            assertEquals("Bearer", none.response().headers().firstValue("WWW-Authenticate").orElse(""));
            assertStatus(401, ServerFixtures.send("POST", guarded.url() + "/v1/predict", predictBody("a", List.of("x")),
                    "wrong"), "bearer token");
            assertEquals(200, ServerFixtures.send("GET", guarded.url() + "/health", null, null).status());
            assertEquals(200, ServerFixtures.send("POST", guarded.url() + "/v1/predict", predictBody("a", List.of("x")),
                    "s3cret").status());
        }
    }

    @Test
    void aFullQueueAnswers503WithRetryAfter(@TempDir Path dir) throws Exception {
        models.get("support-lora").serializeToFile(dir.resolve("a.tribuo"));
        // one waiting request at most, and every batch one request long: a burst must overflow
        try (AdapterServer tight = AdapterServer.start(ServerSettings.defaults(ServerFixtures.BASE, List.of(dir))
                .withPort(0).withBatchLimits(1, 0).withRequestLimits(1, 64, 1 << 20))) {
            tight.cache().load("a");
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                texts.add("a long enough text to keep the worker busy for a while " + i);
            }
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                List<CompletableFuture<ServerFixtures.Answer>> all = new ArrayList<>();
                for (int i = 0; i < 48; i++) {
                    all.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return ServerFixtures.send("POST", tight.url() + "/v1/predict", predictBody("a", texts), null);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }, pool));
                }
                int ok = 0;
                int full = 0;
                for (CompletableFuture<ServerFixtures.Answer> f : all) {
                    ServerFixtures.Answer a = f.get();
                    if (a.status() == 503) {
                        full++;
                        assertEquals("1", a.response().headers().firstValue("Retry-After").orElse(""));
                        assertStatus(503, a, "queue is full");
                    } else {
                        assertEquals(200, a.status(), a.body());
                        ok++;
                    }
                }
                System.out.printf("burst of 48 on a queue of 1: %d answered, %d turned away%n", ok, full);
                assertTrue(full > 0, "no request was turned away");
                assertTrue(ok > 0, "no request was answered");
            } finally {
                pool.shutdownNow();
            }
            assertEquals(200, ServerFixtures.send("GET", tight.url() + "/health", null, null).status());
        }
    }
}
