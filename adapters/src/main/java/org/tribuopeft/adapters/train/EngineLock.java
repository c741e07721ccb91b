package org.tribuopeft.adapters.train;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One lock for the whole process around every training step and evaluation. DJL's PyTorch gradient
 * collector is a process-wide singleton (a second one fails with "A PtGradientCollector is already
 * collecting") and PyTorch's dropout generator is global, so two trainings on two threads take turns
 * step by step; each step seeds the generator itself, so taking turns changes nothing in either
 * result. Fair, so that neither training starves the other.
 */
public final class EngineLock {
    private static final ReentrantLock LOCK = new ReentrantLock(true);

    private EngineLock() {}

    /** Runs {@code work} while holding the lock and returns its result. */
    public static <R> R call(Supplier<R> work) {
        LOCK.lock();
        try {
            return work.get();
        } finally {
            LOCK.unlock();
        }
    }
}
