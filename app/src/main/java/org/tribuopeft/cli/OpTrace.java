package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operators of a PyTorch profiler trace (Chrome JSON, as libtorch's legacy profiler and Python's
 * {@code torch.profiler} export it) summed by name: how often each ran and its self time, the time inside
 * it minus the time inside the operators it called. Operators nest (an {@code aten::linear} holds its
 * {@code aten::addmm}), so only self times add up to the time spent; nesting is read from the intervals of
 * each thread separately.
 *
 * @param operators by operator name, in first-seen order
 * @param topLevelMicros the summed duration of the operators no other operator encloses, in microseconds
 */
record OpTrace(Map<String, Op> operators, double topLevelMicros) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One operator's totals.
     *
     * @param selfMicros time inside it and not inside an operator it called, in microseconds
     * @param calls how many times it ran
     */
    record Op(double selfMicros, long calls) {}

    /** One complete ("X") event of a thread. */
    record Event(String name, double start, double duration) {
        double end() {
            return start + duration;
        }
    }

    /**
     * Reads a trace file: a bare JSON array of events (libtorch) or an object with {@code traceEvents} (Kineto).
     * Only complete events count, and of those only operators: events without a category or of category
     * {@code cpu_op} (annotations such as {@code Optimizer.step} and flow arrows are left out).
     *
     * @throws IOException naming the file when it is not JSON or holds no operator events
     */
    static OpTrace read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + " is not a readable Chrome trace (" + e.getMessage() + ")", e);
        }
        JsonNode events = root != null && root.isObject() ? root.path("traceEvents") : root;
        if (events == null || !events.isArray()) {
            throw new IOException(file + " holds neither a JSON array of trace events nor an object with traceEvents");
        }
        Map<String, List<Event>> byThread = new LinkedHashMap<>();
        for (JsonNode e : events) {
            if (!"X".equals(e.path("ph").asText()) || !(e.path("cat").isMissingNode() || e.path("cat").isNull()
                    || "cpu_op".equals(e.path("cat").asText()))) {
                continue;
            }
            String thread = e.path("pid").asText() + "/" + e.path("tid").asText();
            byThread.computeIfAbsent(thread, t -> new ArrayList<>()).add(new Event(e.path("name").asText(),
                    e.path("ts").asDouble(), e.path("dur").asDouble()));
        }
        if (byThread.isEmpty()) {
            throw new IOException(file + " holds no operator events (complete events of category cpu_op or none)");
        }
        return of(byThread.values());
    }

    /**
     * Self times from the events of each thread. On one thread an event lies inside the latest-started event
     * that has not ended when it starts; its duration is taken from that parent's self time.
     */
    static OpTrace of(Iterable<List<Event>> threads) {
        Map<String, double[]> self = new LinkedHashMap<>();
        Map<String, long[]> calls = new LinkedHashMap<>();
        double top = 0;
        for (List<Event> thread : threads) {
            List<Event> sorted = new ArrayList<>(thread);
            // a parent starts no later than its child; at equal starts the longer one encloses the other
            sorted.sort(Comparator.comparingDouble(Event::start).thenComparing(Event::duration,
                    Comparator.reverseOrder()));
            Deque<Event> open = new ArrayDeque<>();
            for (Event e : sorted) {
                // timestamps are printed to the nanosecond; a child ending a hair past its parent is still inside
                while (!open.isEmpty() && open.peek().end() <= e.start() + 1e-3) {
                    open.pop();
                }
                if (open.isEmpty()) {
                    top += e.duration();
                } else {
                    self.computeIfAbsent(open.peek().name(), n -> new double[1])[0] -= e.duration();
                }
                self.computeIfAbsent(e.name(), n -> new double[1])[0] += e.duration();
                calls.computeIfAbsent(e.name(), n -> new long[1])[0]++;
                open.push(e);
            }
        }
        Map<String, Op> ops = new LinkedHashMap<>();
        self.forEach((name, t) -> ops.put(name, new Op(t[0], calls.get(name)[0])));
        return new OpTrace(ops, top);
    }

    /** The summed self time of all operators, in microseconds (equal to {@link #topLevelMicros()}). */
    double selfMicros() {
        return operators.values().stream().mapToDouble(Op::selfMicros).sum();
    }
}
