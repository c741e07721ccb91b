package org.tribuopeft.server;

import org.tribuopeft.plugin.AdapterDirectory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * The resident adapters: loaded on first request in the background (one load per adapter however many requests
 * ask at once; the others wait on the same load while requests for resident adapters go on), kept in least-recently
 * used order and evicted when their bytes pass the budget. Pinned adapters are loaded at start and never evicted.
 * An adapter in use when evicted is closed when its last request releases it.
 */
public final class AdapterCache implements AutoCloseable {
    private final AdapterDirectory directory;
    private final Function<AdapterDirectory.Entry, LoadedAdapter> loader;
    private final ExecutorService loadPool;
    private final long capacityBytes;
    private final Set<String> pinned;
    private final ServerMetrics metrics;
    private final LinkedHashMap<String, LoadedAdapter> resident = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, Pending> loading = new HashMap<>();
    private long residentBytes;

    private static final class Pending {
        final CompletableFuture<LoadedAdapter> done = new CompletableFuture<>();
        int waiters;
    }

    /**
     * A cache.
     *
     * @param directory where ids are resolved
     * @param loader builds an adapter from its entry (runs on {@code loadPool})
     * @param loadPool the background threads that load
     * @param capacityBytes the budget for resident adapters' bytes
     * @param pinned ids never evicted
     * @param metrics where hits, misses, loads and evictions are counted
     */
    public AdapterCache(AdapterDirectory directory, Function<AdapterDirectory.Entry, LoadedAdapter> loader,
                        ExecutorService loadPool, long capacityBytes, Set<String> pinned, ServerMetrics metrics) {
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("the adapter cache needs a positive byte budget, got " + capacityBytes);
        }
        this.directory = directory;
        this.loader = loader;
        this.loadPool = loadPool;
        this.capacityBytes = capacityBytes;
        this.pinned = Set.copyOf(pinned);
        this.metrics = metrics;
    }

    /** The resident adapter with a reference taken and the hit counted, or null; call holding this cache's lock. */
    private CompletableFuture<LoadedAdapter> residentHit(String id) {
        LoadedAdapter a = resident.get(id);
        if (a == null) {
            return null;
        }
        a.retain();
        metrics.cacheHit();
        return CompletableFuture.completedFuture(a);
    }

    /**
     * The adapter with one reference taken for the caller, who must {@link #release} it: at once when resident,
     * otherwise when its (single, shared) load finishes.
     *
     * @throws HttpStatusException 400 for a malformed id, 404 for an id no folder holds; the future fails with 422
     *     when the file cannot be served
     */
    public CompletableFuture<LoadedAdapter> acquire(String id) {
        synchronized (this) {
            CompletableFuture<LoadedAdapter> hit = residentHit(id);
            if (hit != null) {
                return hit;
            }
        }
        AdapterDirectory.Entry entry = resolve(directory, id).orElseThrow(() -> new HttpStatusException(404,
                "no adapter '" + id + "' in the adapter folders " + directory.roots() + "; GET /v1/adapters lists them"));
        Pending start = null;
        Pending p;
        synchronized (this) {
            CompletableFuture<LoadedAdapter> hit = residentHit(id);
            if (hit != null) {
                return hit;
            }
            metrics.cacheMiss();
            p = loading.get(id);
            if (p == null) {
                p = new Pending();
                loading.put(id, p);
                start = p;
            }
            p.waiters++;
        }
        if (start != null) {
            Pending mine = start;
            try {
                loadPool.execute(() -> finish(id, mine, entry));
            } catch (RuntimeException e) {
                synchronized (this) {
                    loading.remove(id);
                }
                mine.done.completeExceptionally(new HttpStatusException(503, "the loader is shutting down", 1));
            }
        }
        return p.done;
    }

    private void finish(String id, Pending p, AdapterDirectory.Entry entry) {
        LoadedAdapter a;
        try {
            a = loader.apply(entry);
        } catch (RuntimeException e) {
            synchronized (this) {
                loading.remove(id);
            }
            metrics.loadFailed();
            p.done.completeExceptionally(e);
            return;
        }
        List<LoadedAdapter> toClose;
        synchronized (this) {
            loading.remove(id);
            for (int i = 0; i < p.waiters; i++) {
                a.retain();
            }
            resident.put(id, a);
            residentBytes += a.bytes();
            metrics.loaded();
            toClose = evictOverflow(id);
        }
        p.done.complete(a);
        toClose.forEach(LoadedAdapter::evict);
    }

    /** Takes least recently used, unpinned adapters out until the budget holds (the newest one stays). */
    private List<LoadedAdapter> evictOverflow(String keep) {
        List<LoadedAdapter> out = new ArrayList<>();
        var it = resident.entrySet().iterator();
        while (residentBytes > capacityBytes && it.hasNext()) {
            var e = it.next();
            if (e.getKey().equals(keep) || pinned.contains(e.getKey())) {
                continue;
            }
            it.remove();
            residentBytes -= e.getValue().bytes();
            metrics.evicted();
            out.add(e.getValue());
        }
        return out;
    }

    /** Drops the caller's reference taken by {@link #acquire}. */
    public void release(LoadedAdapter a) {
        a.release();
    }

    /**
     * Loads (if needed) and waits: for start-up pins and {@code POST /v1/adapters/{id}/load}.
     *
     * @return the adapter (no reference held)
     */
    public LoadedAdapter load(String id) {
        try {
            LoadedAdapter a = acquire(id).join();
            release(a);
            return a;
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Removes an adapter from the cache (it is closed once its running requests finish).
     *
     * @return false when it was not resident
     * @throws HttpStatusException 409 for a pinned adapter
     */
    public boolean unload(String id) {
        LoadedAdapter a;
        synchronized (this) {
            if (pinned.contains(id)) {
                throw new HttpStatusException(409, "adapter '" + id + "' is pinned; restart without it in --pin to unload it");
            }
            a = resident.remove(id);
            if (a == null) {
                return false;
            }
            residentBytes -= a.bytes();
        }
        a.evict();
        return true;
    }

    /** The resident adapters, least recently used first. */
    public synchronized List<LoadedAdapter> residents() {
        return List.copyOf(resident.values());
    }

    /** True when {@code id} is resident (does not count as a use). */
    public synchronized boolean isResident(String id) {
        return resident.keySet().contains(id);
    }

    /** True when {@code id} is pinned. */
    public boolean isPinned(String id) {
        return pinned.contains(id);
    }

    /** Bytes of the resident adapters. */
    public synchronized long residentBytes() {
        return residentBytes;
    }

    /** The byte budget. */
    public long capacityBytes() {
        return capacityBytes;
    }

    /** Closes every resident adapter (after the scheduler has stopped). */
    @Override
    public void close() {
        List<LoadedAdapter> all;
        synchronized (this) {
            all = new ArrayList<>(resident.values());
            resident.clear();
            residentBytes = 0;
        }
        all.forEach(LoadedAdapter::evict);
    }

    /**
     * Looks an id up in the folders.
     *
     * @throws HttpStatusException 400 for an id that is not a plain name
     */
    static Optional<AdapterDirectory.Entry> resolve(AdapterDirectory directory, String id) {
        try {
            return directory.resolve(id);
        } catch (IllegalArgumentException e) {
            throw new HttpStatusException(400, e.getMessage());
        }
    }
}
