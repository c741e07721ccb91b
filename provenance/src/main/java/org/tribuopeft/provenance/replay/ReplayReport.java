package org.tribuopeft.provenance.replay;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of a replay: for every trained tensor of either model (a tensor only one has is a
 * difference) the largest absolute difference between the original and the replayed model, and every provenance field that differs (split into fields that
 * are expected to differ between runs, such as timestamps, and the rest).
 *
 * @param tensors per-tensor differences, in name order
 * @param unexpectedDifferences provenance fields that differ and should not
 * @param expectedDifferences provenance fields that differ as they always do (times, durations)
 */
public record ReplayReport(List<TensorDiff> tensors, List<String> unexpectedDifferences,
                           List<String> expectedDifferences) {

    /** Copies the lists. */
    public ReplayReport {
        tensors = List.copyOf(tensors);
        unexpectedDifferences = List.copyOf(unexpectedDifferences);
        expectedDifferences = List.copyOf(expectedDifferences);
    }

    /**
     * One tensor's comparison.
     *
     * @param name the tensor's full name
     * @param maxAbsDiff the largest absolute element difference (0 when bit-identical)
     * @param bitIdentical whether every element has the same bits
     * @param problem why the tensors could not be compared element by element (missing on one side, shapes
     *     differ), or empty
     */
    public record TensorDiff(String name, double maxAbsDiff, boolean bitIdentical, String problem) {}

    /** True when every trained tensor is bit-identical to the original. */
    public boolean bitIdentical() {
        return !tensors.isEmpty() && tensors.stream().allMatch(TensorDiff::bitIdentical);
    }

    /** The largest difference over all tensors. */
    public double maxAbsDiff() {
        return tensors.stream().mapToDouble(TensorDiff::maxAbsDiff).max().orElse(Double.NaN);
    }

    /** A human-readable report. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "replay: %d trained tensors compared, max |diff| = %s -> %s%n",
                tensors.size(), maxAbsDiff() == 0 ? "0" : String.format(Locale.ROOT, "%.3e", maxAbsDiff()),
                bitIdentical() ? "BIT-IDENTICAL" : "DIFFERENT"));
        for (TensorDiff t : tensors) {
            if (!t.problem().isEmpty()) {
                sb.append(String.format(Locale.ROOT, "  %-70s %s%n", t.name(), t.problem()));
            } else if (!t.bitIdentical()) {
                sb.append(String.format(Locale.ROOT, "  %-70s max |diff| %.3e%n", t.name(), t.maxAbsDiff()));
            }
        }
        sb.append("provenance fields that differ unexpectedly: ").append(unexpectedDifferences.size()).append('\n');
        unexpectedDifferences.forEach(d -> sb.append("  ").append(d).append('\n'));
        sb.append("provenance fields that differ as expected (times, durations): ").append(expectedDifferences.size())
                .append('\n');
        return sb.toString();
    }
}
