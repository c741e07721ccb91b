package org.tribuopeft.adapters.testing;

import org.tribuopeft.adapters.train.ReplicaExchange;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Replicas of a data-parallel run on threads of one JVM: an all-gather through shared slots and two barriers (one
 * so every message is in, one so nobody overwrites a slot before everyone has read it). A replica that does not
 * arrive within the timeout breaks the barrier for all.
 */
public final class InProcessReplicas {
    private final byte[][] slots;
    private final CyclicBarrier in;
    private final CyclicBarrier out;

    /** A group of {@code workers} replicas. */
    public InProcessReplicas(int workers) {
        this.slots = new byte[workers][];
        this.in = new CyclicBarrier(workers);
        this.out = new CyclicBarrier(workers);
    }

    /** Replica {@code rank}'s view of the group. */
    public ReplicaExchange member(int rank) {
        return message -> {
            slots[rank] = message.clone();
            await(in);
            List<byte[]> all = new ArrayList<>();
            for (byte[] s : slots) {
                all.add(s.clone());
            }
            await(out);
            return all;
        };
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the other replicas", e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IllegalStateException("a replica was lost: the exchange broke", e);
        }
    }
}
