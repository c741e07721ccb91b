package org.tribuopeft.server;

import org.tribuopeft.adapters.train.TaskKind;
import org.tribuopeft.adapters.train.TextModel;

import java.util.List;

/**
 * One adapter in the cache: its model on the shared base (or, in merged mode, its own merged copy), what its head
 * outputs mean, and its size. Requests hold a reference while their rows are queued or running; an evicted adapter
 * is closed when the last reference is released, so eviction never frees arrays a forward pass is reading.
 */
public final class LoadedAdapter {
    private final String id;
    private final String method;
    private final TaskKind task;
    private final List<String> outputNames;
    private final TextModel model;
    private final long bytes;
    private final String source;
    private int references;
    private boolean evicted;
    private boolean closed;

    LoadedAdapter(String id, String method, TaskKind task, List<String> outputNames, TextModel model, long bytes,
                  String source) {
        this.id = id;
        this.method = method;
        this.task = task;
        this.outputNames = List.copyOf(outputNames);
        this.model = model;
        this.bytes = bytes;
        this.source = source;
    }

    /** The adapter id. */
    public String id() {
        return id;
    }

    /** The method's registered name. */
    public String method() {
        return method;
    }

    /** What the head predicts. */
    public TaskKind task() {
        return task;
    }

    /** Output names in head order. */
    public List<String> outputNames() {
        return outputNames;
    }

    /** The model that predicts for this adapter. */
    public TextModel model() {
        return model;
    }

    /** Bytes this adapter adds to the server's memory (its own arrays; in merged mode, its whole copy). */
    public long bytes() {
        return bytes;
    }

    /** The file or folder it was loaded from. */
    public String source() {
        return source;
    }

    synchronized void retain() {
        if (closed) {
            throw new IllegalStateException("adapter '" + id + "' is already closed");
        }
        references++;
    }

    /** Drops a reference; true when this closed the adapter. */
    synchronized boolean release() {
        references--;
        return closeIfUnused();
    }

    /** Marks the adapter evicted; true when this closed it (nothing held it). */
    synchronized boolean evict() {
        evicted = true;
        return closeIfUnused();
    }

    private boolean closeIfUnused() {
        if (evicted && references <= 0 && !closed) {
            closed = true;
            model.close();
            return true;
        }
        return false;
    }

    /** True once evicted (it may still be finishing the batches that hold it). */
    public synchronized boolean isEvicted() {
        return evicted;
    }

    /** True once its arrays are freed. */
    public synchronized boolean isClosed() {
        return closed;
    }
}
