package org.tribuopeft.adapters.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Prints a progress line (step, loss, steps per second, ETA) at most every few seconds, and one line
 * per epoch with the validation result.
 */
public final class ConsoleProgress implements ProgressListener {
    private final PrintStream out;
    private final long intervalNanos;
    private final String prefix;
    private long lastPrint = Long.MIN_VALUE;

    /**
     * Creates a printer.
     *
     * @param out where lines go
     * @param intervalSeconds minimum seconds between step lines
     * @param prefix a tag at the start of each line, e.g. {@code [lora]}
     */
    public ConsoleProgress(PrintStream out, double intervalSeconds, String prefix) {
        this.out = out;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
        this.prefix = prefix;
    }

    @Override
    public void onStep(StepProgress p) {
        long now = System.nanoTime();
        if (lastPrint != Long.MIN_VALUE && now - lastPrint < intervalNanos && p.step() != p.totalSteps()) {
            return;
        }
        lastPrint = now;
        out.printf(Locale.ROOT, "%s epoch %d/%d step %d/%d loss %.4f (epoch mean %.4f) lr %.2e %.2f step/s ETA %s%n",
                prefix, p.epoch(), p.epochs(), p.step(), p.totalSteps(), p.loss(), p.epochMeanLoss(), p.learningRate(),
                p.stepsPerSecond(), formatDuration(p.etaSeconds()));
        out.flush();
    }

    @Override
    public void onEpoch(EpochResult r) {
        if (Double.isNaN(r.validationMetric())) {
            out.printf(Locale.ROOT, "%s epoch %d done in %s: train loss %.4f (no validation split)%n", prefix, r.epoch(),
                    formatDuration(r.seconds()), r.trainLoss());
        } else {
            out.printf(Locale.ROOT, "%s epoch %d done in %s: train loss %.4f, validation loss %.4f, %s %.4f%n", prefix,
                    r.epoch(), formatDuration(r.seconds()), r.trainLoss(), r.validationLoss(), r.validationMetricName(),
                    r.validationMetric());
        }
        out.flush();
    }

    @Override
    public void onEarlyStop(int epoch, int bestEpoch) {
        out.printf(Locale.ROOT, "%s early stop after epoch %d; restoring epoch %d%n", prefix, epoch, bestEpoch);
        out.flush();
    }

    /** Formats seconds as {@code 1h02m03s}, {@code 4m05s} or {@code 12s}. */
    public static String formatDuration(double seconds) {
        if (Double.isNaN(seconds) || Double.isInfinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, (s % 3600) / 60, s % 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
