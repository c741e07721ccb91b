package org.tribuopeft.adapters.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Turns PyTorch's autograd off on the calling thread until closed, then restores what was there. PyTorch keeps
 * this switch per thread and DJL turns it off only on the thread that started the engine, so inference on any
 * other thread (a server's worker pool) would otherwise record gradients, and copying trained values into
 * parameters that require gradients would fail. The only class besides the engine set-up that touches PyTorch
 * directly.
 */
public final class NoGradientScope implements AutoCloseable {
    private final boolean previous;

    /** Turns autograd off on this thread; close on the same thread. */
    public NoGradientScope() {
        TorchRuntime.engine();
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    /** Restores the thread's previous autograd setting. */
    @Override
    public void close() {
        JniUtils.setGradMode(previous);
    }
}
