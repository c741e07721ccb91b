package org.tribuopeft.server;

import org.tribuopeft.plugin.AdapterDirectory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;
import org.tribuopeft.adapters.mixed.SharedBase;
import org.tribuopeft.plugin.BackboneReference;
import org.tribuopeft.plugin.BackboneSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The adapter server: one frozen base held once, adapters loaded on demand from the configured folders into a
 * byte-bounded LRU cache, and a JSON API over HTTP (Jetty 12.1's core handlers on a bounded thread pool): predict
 * with an adapter id per request, list, load and unload adapters, health, Prometheus metrics and the OpenAPI
 * document. Requests for different adapters are batched together by a {@link BatchScheduler}. Every error is a
 * JSON {@code {"error": ..., "status": ...}} with a specific status; nothing a client sends stops the server.
 */
public final class AdapterServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AdapterServer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every route the server answers, as {@code METHOD path} with {@code {id}} for the adapter id. */
    public static final List<String> ROUTES = List.of("GET /health", "GET /metrics", "GET /openapi",
            "GET /v1/adapters", "POST /v1/adapters/{id}/load", "DELETE /v1/adapters/{id}", "POST /v1/predict");

    private final ServerSettings settings;
    private final SharedBase base;
    private final AdapterDirectory directory;
    private final ServerMetrics metrics = new ServerMetrics();
    private final ExecutorService loadPool;
    private final AdapterCache cache;
    private final BatchScheduler scheduler;
    private final Server http;
    private final ServerConnector connector;
    private final byte[] tokenDigest;

    private AdapterServer(ServerSettings settings) throws Exception {
        this.settings = settings;
        this.directory = new AdapterDirectory(settings.adapterFolders());
        Backbone backbone = BackboneSpec.open(settings.base(), "", null);
        String sha = BackboneReference.of(backbone, BackboneSpec.tokenizerLocation(settings.base(), "")).weightsSha256();
        this.base = SharedBase.of(backbone);
        AtomicInteger loaderCount = new AtomicInteger();
        this.loadPool = Executors.newFixedThreadPool(settings.loaderThreads(), r -> {
            Thread t = new Thread(r, "tribuo-peft-adapter-loader-" + loaderCount.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        AdapterLoader loader = new AdapterLoader(base, settings.base(), sha, settings.batching());
        this.cache = new AdapterCache(directory, loader::load, loadPool, settings.cacheBytes(), settings.pinned(),
                metrics);
        this.scheduler = new BatchScheduler(new MixedBatchPredictor(base), settings.batching(), settings.maxQueue(),
                settings.maxBatchTokens(), settings.maxWaitMillis(), cache, metrics);
        metrics.gauges(() -> cache.residents().size(), cache::residentBytes, scheduler::queueDepth);
        this.tokenDigest = settings.token().map(AdapterServer::digest).orElse(null);
        QueuedThreadPool threads = new QueuedThreadPool(settings.httpThreads(), Math.min(4, settings.httpThreads()));
        threads.setName("tribuo-peft-http");
        threads.setDaemon(true);
        this.http = new Server(threads);
        this.connector = new ServerConnector(http);
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        http.addConnector(connector);
        http.setHandler(new Routes());
    }

    /**
     * Starts a server: loads the base, then the pinned adapters, then listens.
     *
     * @throws IllegalArgumentException for a missing folder or a pinned adapter that cannot be served
     */
    public static AdapterServer start(ServerSettings settings) throws Exception {
        AdapterServer s = new AdapterServer(settings);
        try {
            for (String id : settings.pinned()) {
                try {
                    s.cache.load(id);
                } catch (HttpStatusException e) {
                    throw new IllegalArgumentException("pinned adapter '" + id + "': " + e.getMessage(), e);
                }
            }
            s.http.start();
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The port the server listens on (the chosen one when started with port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** The base URL, {@code http://host:port}. */
    public String url() {
        return "http://" + settings.host() + ":" + port();
    }

    /** The metrics (for tests and the load generator). */
    public ServerMetrics metrics() {
        return metrics;
    }

    /** The adapter cache. */
    public AdapterCache cache() {
        return cache;
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        http.join();
    }

    /** Stops listening, fails waiting requests with 503, frees every adapter and the base. */
    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "stopping HTTP", e);
        }
        scheduler.close();
        loadPool.shutdownNow();
        cache.close();
        base.close();
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The OpenAPI document served at {@code /openapi}. */
    public static String openApi() {
        try (InputStream in = AdapterServer.class.getResourceAsStream("openapi.yaml")) {
            if (in == null) {
                throw new IllegalStateException("openapi.yaml is missing from the server jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            long started = System.nanoTime();
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            String route = routeOf(method, path);
            Reply reply = new Reply(response, callback, route, started);
            try {
                if (route == null) {
                    throw new HttpStatusException(ROUTES.stream().anyMatch(r -> matches(r.substring(r.indexOf(' ') + 1),
                            path)) ? 405 : 404, "no route " + method + " " + path + "; GET /openapi lists the API");
                }
                if (!route.equals("GET /health")) {
                    authorise(request);
                }
                switch (route) {
                    case "GET /health" -> reply.json(200, health());
                    case "GET /metrics" -> reply.text(200, "text/plain; version=0.0.4; charset=utf-8",
                            metrics.prometheusText());
                    case "GET /openapi" -> reply.text(200, "application/yaml; charset=utf-8", openApi());
                    case "GET /v1/adapters" -> reply.json(200, adapters());
                    case "POST /v1/adapters/{id}/load" -> load(idOf(path), reply);
                    case "DELETE /v1/adapters/{id}" -> unload(idOf(path), reply);
                    case "POST /v1/predict" -> predict(request, reply);
                    default -> throw new IllegalStateException("route without handler: " + route);
                }
            } catch (HttpStatusException e) {
                reply.error(e);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "request failed", e);
                reply.error(new HttpStatusException(500, "internal error: " + e));
            }
            return true;
        }
    }

    private static String routeOf(String method, String path) {
        for (String r : ROUTES) {
            int sp = r.indexOf(' ');
            if (r.substring(0, sp).equals(method) && matches(r.substring(sp + 1), path)) {
                return r;
            }
        }
        return null;
    }

    private static boolean matches(String pattern, String path) {
        String[] p = pattern.split("/", -1);
        String[] q = path.split("/", -1);
        if (p.length != q.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (!p[i].equals("{id}") && !p[i].equals(q[i])) {
                return false;
            }
        }
        return true;
    }

    private static String idOf(String path) {
        return path.split("/", -1)[3];
    }

    private void authorise(Request request) {
        if (tokenDigest == null) {
            return;
        }
        String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : null;
        // compare digests in constant time so the answer's timing says nothing about the token
        if (given == null || !MessageDigest.isEqual(tokenDigest, digest(given))) {
            throw new HttpStatusException(401, "missing or wrong bearer token; send 'Authorization: Bearer <token>'");
        }
    }

    private ObjectNode health() {
        ObjectNode n = JSON.createObjectNode();
        n.put("status", "ok");
        n.put("base", settings.base());
        n.put("batching", settings.batching().name().toLowerCase(java.util.Locale.ROOT));
        n.put("resident_adapters", cache.residents().size());
        n.put("queue_depth", scheduler.queueDepth());
        return n;
    }

    private ObjectNode adapters() {
        ObjectNode n = JSON.createObjectNode();
        ArrayNode list = n.putArray("adapters");
        for (AdapterDirectory.Entry e : directory.list()) {
            ObjectNode a = list.addObject();
            a.put("id", e.id());
            a.put("format", e.kind() == AdapterDirectory.Kind.TRIBUO ? "tribuo" : "peft");
            a.put("resident", cache.isResident(e.id()));
            a.put("pinned", cache.isPinned(e.id()));
        }
        ArrayNode res = n.putArray("resident");
        for (LoadedAdapter a : cache.residents()) {
            res.add(describe(a));
        }
        n.put("resident_bytes", cache.residentBytes());
        n.put("cache_bytes", cache.capacityBytes());
        return n;
    }

    private ObjectNode describe(LoadedAdapter a) {
        return ApiJson.describe(a, cache.isPinned(a.id()));
    }

    private void load(String id, Reply reply) {
        boolean was = cache.isResident(id);
        CompletableFuture<LoadedAdapter> f = cache.acquire(id);
        f.whenComplete((a, e) -> {
            if (e != null) {
                reply.error(unwrap(e));
                return;
            }
            cache.release(a);
            ObjectNode n = describe(a);
            n.put("already_resident", was);
            reply.json(200, n);
        });
    }

    private void unload(String id, Reply reply) {
        if (!AdapterDirectory.isValidId(id)) {
            AdapterCache.resolve(directory, id); // throws the 400 that names the rule
        }
        if (!cache.unload(id)) {
            throw new HttpStatusException(404, "adapter '" + id + "' is not resident");
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("id", id);
        n.put("unloaded", true);
        reply.json(200, n);
    }

    private void predict(Request request, Reply reply) {
        ApiJson.PredictRequest body = ApiJson.predictRequest(ApiJson.readObject(request, settings.maxRequestBytes()),
                settings.maxTexts());
        String id = body.adapter();
        List<String> texts = body.texts();
        cache.acquire(id).thenCompose(a -> {
            CompletableFuture<float[][]> result = new CompletableFuture<>();
            try {
                scheduler.submit(new BatchScheduler.Job(a, texts, result));
            } catch (RuntimeException e) {
                cache.release(a);
                throw e;
            }
            return result.thenApply(rows -> ApiJson.predictions(a, rows));
        }).whenComplete((n, e) -> {
            if (e != null) {
                reply.error(unwrap(e));
            } else {
                reply.json(200, n);
            }
        });
    }

    private static HttpStatusException unwrap(Throwable e) {
        Throwable t = e;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof HttpStatusException h) {
            return h;
        }
        LOG.log(Level.WARNING, "request failed", t);
        return new HttpStatusException(500, "internal error: " + t);
    }

    /** Writes one response exactly once and records it in the metrics. */
    private final class Reply {
        private final Response response;
        private final Callback callback;
        private final String route;
        private final long started;
        private final java.util.concurrent.atomic.AtomicBoolean sent = new java.util.concurrent.atomic.AtomicBoolean();

        Reply(Response response, Callback callback, String route, long started) {
            this.response = response;
            this.callback = callback;
            this.route = route == null ? "unmatched" : route;
            this.started = started;
        }

        void json(int status, JsonNode body) {
            text(status, "application/json; charset=utf-8", body.toString());
        }

        void error(HttpStatusException e) {
            ObjectNode n = JSON.createObjectNode();
            n.put("error", e.getMessage());
            n.put("status", e.status());
            if (e.retryAfterSeconds() > 0 && !sent.get()) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
            }
            if (e.status() == 401 && !sent.get()) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            }
            json(e.status(), n);
        }

        void text(int status, String contentType, String body) {
            if (!sent.compareAndSet(false, true)) {
                return;
            }
            metrics.request(route, status, (System.nanoTime() - started) / 1e9);
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            Content.Sink.write(response, true, body, callback);
        }
    }
}
