package org.tribuopeft.cli;

import ai.djl.pytorch.jni.JniUtils;

import java.nio.file.Path;

/**
 * PyTorch's own operator profiler around a window of training steps of {@link StepBenchmark}: it starts
 * after step {@code from} and writes libtorch's Chrome trace of the next {@code steps} steps, so our
 * operators can be set against Python's ({@code peft_step.py --profile}) call by call. A window that does not
 * fit inside the run is refused before anything runs, rather than silently writing no trace.
 */
final class OpProfile {
    private final Path out;
    private final int from;
    private final int steps;

    OpProfile(Path out, int from, int steps, int totalSteps) {
        if (from < 0 || steps < 1 || (long) from + steps > totalSteps) {
            throw new CliException("--profile-from " + from + " and --profile-steps " + steps + " must name a window"
                    + " inside the run's " + totalSteps + " steps (from >= 0, steps >= 1, from + steps <= "
                    + totalSteps + ")");
        }
        this.out = out.toAbsolutePath();
        this.from = from;
        this.steps = steps;
    }

    /** Called just before the first step: starts the profiler when the window opens at step 0. */
    void beforeFirstStep() {
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
