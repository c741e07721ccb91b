package org.tribuopeft.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A Markdown table setting our operator self times against Python's (or one of our methods against another) for
 * the same window of training steps: per operator, milliseconds and calls per step on each side and the
 * difference, the operators that differ most first, then the rest summed and the totals. It shows where a step
 * loses or gains time, operator by operator.
 */
final class OpProfileTable {
    private OpProfileTable() {}

    /**
     * Renders the table.
     *
     * @param ours our trace
     * @param python Python's trace, or null when there is none (its columns are left empty)
     * @param steps how many training steps each trace covers (times are divided by it)
     * @param top how many operators to list one by one: those with the largest absolute difference
     */
    static String render(OpTrace ours, OpTrace python, int steps, int top) {
        return render(ours, "ours", python, "Python", steps, top);
    }

    /**
     * Renders the table for any two traces of the same window of steps, the columns headed by their labels (our
     * LoRA step against our full fine-tuning step, say).
     *
     * @param right the second trace, or null when there is none (its columns are left empty)
     */
    static String render(OpTrace left, String leftLabel, OpTrace right, String rightLabel, int steps, int top) {
        if (steps < 1 || top < 1) {
            throw new IllegalArgumentException("steps and top must be positive, got " + steps + " and " + top);
        }
        OpTrace rightOps = right == null ? new OpTrace(java.util.Map.of(), 0) : right;
        Set<String> names = new LinkedHashSet<>(left.operators().keySet());
        names.addAll(rightOps.operators().keySet());
        List<String> byGap = new ArrayList<>(names);
        byGap.sort(Comparator.comparingDouble((String n) -> -Math.abs(gap(left, rightOps, n))).thenComparing(n -> n));
        List<String> shown = new ArrayList<>(byGap.subList(0, Math.min(top, byGap.size())));
        shown.sort(Comparator.comparingDouble((String n) -> -gap(left, rightOps, n)).thenComparing(n -> n));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "| operator | %1$s ms/step | %1$s calls/step | %2$s ms/step | %2$s "
                + "calls/step | %1$s − %2$s ms/step |%n", leftLabel, rightLabel));
        sb.append("|---|---|---|---|---|---|\n");
        double[] rest = new double[2];
        long[] restCalls = new long[2];
        for (String n : byGap.subList(shown.size(), byGap.size())) {
            rest[0] += self(left, n);
            rest[1] += self(rightOps, n);
            restCalls[0] += calls(left, n);
            restCalls[1] += calls(rightOps, n);
        }
        for (String n : shown) {
            sb.append(row("`" + n + "`", self(left, n), calls(left, n), self(rightOps, n), calls(rightOps, n), steps, right != null));
        }
        if (shown.size() < byGap.size()) {
            sb.append(row("the other " + (byGap.size() - shown.size()) + " operators", rest[0], restCalls[0], rest[1],
                    restCalls[1], steps, right != null));
        }
        long leftCalls = left.operators().values().stream().mapToLong(OpTrace.Op::calls).sum();
        long rightCalls = rightOps.operators().values().stream().mapToLong(OpTrace.Op::calls).sum();
        sb.append(row("**total**", left.selfMicros(), leftCalls, rightOps.selfMicros(), rightCalls, steps, right != null));
        return sb.toString();
    }

    private static double gap(OpTrace ours, OpTrace py, String name) {
        return self(ours, name) - self(py, name);
    }

    private static double self(OpTrace t, String name) {
        OpTrace.Op op = t.operators().get(name);
        return op == null ? 0 : op.selfMicros();
    }

    private static long calls(OpTrace t, String name) {
        OpTrace.Op op = t.operators().get(name);
        return op == null ? 0 : op.calls();
    }

    private static String row(String label, double oursMicros, long oursCalls, double pyMicros, long pyCalls, int steps,
                              boolean withPython) {
        String pyMs = withPython ? ms(pyMicros, steps) : "";
        String pyN = withPython ? perStep(pyCalls, steps) : "";
        String diff = withPython ? String.format(Locale.ROOT, "%+.1f", (oursMicros - pyMicros) / steps / 1e3) : "";
        return "| " + label + " | " + ms(oursMicros, steps) + " | " + perStep(oursCalls, steps) + " | " + pyMs + " | "
                + pyN + " | " + diff + " |\n";
    }

    private static String ms(double micros, int steps) {
        return String.format(Locale.ROOT, "%.1f", micros / steps / 1e3);
    }

    private static String perStep(long calls, int steps) {
        return calls % steps == 0 ? Long.toString(calls / steps)
                : String.format(Locale.ROOT, "%.1f", (double) calls / steps);
    }
}
