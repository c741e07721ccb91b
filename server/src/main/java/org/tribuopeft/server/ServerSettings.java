package org.tribuopeft.server;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a server is started with. {@link #defaults} gives the values the CLI uses when an option is not
 * given; the {@code with*} methods return changed copies.
 *
 * @param base the base model: a bundled name ({@code all-minilm-l6-v2}), a Hugging Face folder or an .onnx file
 * @param adapterFolders folders whose entries are the adapter ids
 * @param host the address to listen on (loopback unless told otherwise)
 * @param port the TCP port; 0 picks a free one
 * @param cacheBytes byte budget for resident adapters
 * @param pinned adapter ids loaded at start and never evicted
 * @param token the bearer token every request but {@code /health} must carry; empty for none
 * @param batching how requests for different adapters share forward passes
 * @param maxBatchTokens tokens (before padding) that close a batch
 * @param maxWaitMillis how long a batch waits for more requests, milliseconds
 * @param maxQueue requests that may wait before new ones get 503
 * @param maxTexts texts one request may carry (413 above)
 * @param maxRequestBytes bytes one request body may have (413 above)
 * @param loaderThreads threads that load adapters in the background
 * @param httpThreads threads that serve HTTP (they never run forward passes)
 */
public record ServerSettings(String base, List<Path> adapterFolders, String host, int port, long cacheBytes,
                             Set<String> pinned, Optional<String> token, Batching batching, int maxBatchTokens,
                             long maxWaitMillis, int maxQueue, int maxTexts, int maxRequestBytes, int loaderThreads,
                             int httpThreads) {
    /** Checks the numbers. */
    public ServerSettings {
        adapterFolders = List.copyOf(adapterFolders);
        pinned = Set.copyOf(pinned);
        positive("port", port + 1);
        positive("cache-bytes", cacheBytes);
        positive("max-batch-tokens", maxBatchTokens);
        positive("max-wait-ms", maxWaitMillis + 1);
        positive("max-queue", maxQueue);
        positive("max-texts", maxTexts);
        positive("max-request-bytes", maxRequestBytes);
        positive("loader-threads", loaderThreads);
        positive("http-threads", httpThreads);
        if (port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException("--" + name + " must be positive, got " + v);
        }
    }

    /**
     * The defaults: loopback, port 8080, a 256 MiB adapter cache, mixed batching, batches of up to 4096 tokens
     * waiting at most 5 ms, 256 queued requests, 64 texts and 1 MiB per request.
     */
    public static ServerSettings defaults(String base, List<Path> adapterFolders) {
        return new ServerSettings(base, adapterFolders, "127.0.0.1", 8080, 256L << 20, Set.of(), Optional.empty(),
                Batching.MIXED, 4096, 5, 256, 64, 1 << 20, 2, 16);
    }

    /** A copy listening on {@code port}. */
    public ServerSettings withPort(int port) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy listening on {@code host}. */
    public ServerSettings withHost(String host) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy with a byte budget for resident adapters. */
    public ServerSettings withCacheBytes(long cacheBytes) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy with these pinned adapters. */
    public ServerSettings withPinned(Set<String> pinned) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy requiring this bearer token. */
    public ServerSettings withToken(String token) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, Optional.of(token), batching,
                maxBatchTokens, maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy with another batching mode. */
    public ServerSettings withBatching(Batching batching) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy with other batch limits. */
    public ServerSettings withBatchLimits(int maxBatchTokens, long maxWaitMillis) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }

    /** A copy with other request limits. */
    public ServerSettings withRequestLimits(int maxQueue, int maxTexts, int maxRequestBytes) {
        return new ServerSettings(base, adapterFolders, host, port, cacheBytes, pinned, token, batching, maxBatchTokens,
                maxWaitMillis, maxQueue, maxTexts, maxRequestBytes, loaderThreads, httpThreads);
    }
}
