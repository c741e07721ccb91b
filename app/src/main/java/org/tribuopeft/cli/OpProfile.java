package org.tribuopeft.cli;

import ai.djl.pytorch.jni.JniUtils;

import java.nio.file.Path;

/**
 * PyTorch's own operator profiler around a window of training steps of {@link StepBenchmark}: it starts
 * after step {@code from} and writes libtorch's Chrome trace of the next {@code steps} steps, so our
 * operators can be set against Python's ({@code peft_step.py --profile}) call by call.
 */
final class OpProfile {
    private final Path out;
    private final int from;
    private final int steps;

    OpProfile(Path out, int from, int steps) {
        if (from < 0 || steps < 1) {
            throw new CliException("--profile-from must be >= 0 and --profile-steps >= 1, got " + from + " and "
                    + steps);
        }
        this.out = out.toAbsolutePath();
        this.from = from;
        this.steps = steps;
        if (from == 0) {
            JniUtils.startProfile(false, true, false);
        }
    }

    /** Called after each finished step (1-based): starts or stops the profiler at the window's edges. */
    void afterStep(int step) {
        if (step == from) {
            JniUtils.startProfile(false, true, false);
        } else if (step == from + steps) {
            JniUtils.stopProfile(out.toString());
        }
    }
}
