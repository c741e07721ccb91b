package org.tribuopeft.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Self time per operator from nested trace intervals, per thread, and the table that sets two traces side by side. */
class OpTraceTest {

    /**
     * Thread 1: linear [0, 100) holds t [5, 15) and addmm [20, 90), which holds an inner empty [30, 35); then a
     * second, top-level addmm [100, 110) that starts exactly when linear ends. Thread 2 (given first in the file)
     * runs mul [50, 80) at the same time, which must not be taken out of thread 1's operators. An annotation and
     * a flow event are ignored.
     */
    private static final String KINETO = """
            {"traceEvents": [
              {"ph": "X", "cat": "cpu_op", "name": "aten::mul", "pid": 7, "tid": 2, "ts": 1050.0, "dur": 30.0},
              {"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "pid": 7, "tid": 1, "ts": 1020.0, "dur": 70.0},
              {"ph": "X", "cat": "cpu_op", "name": "aten::linear", "pid": 7, "tid": 1, "ts": 1000.0, "dur": 100.0},
              {"ph": "X", "cat": "cpu_op", "name": "aten::t", "pid": 7, "tid": 1, "ts": 1005.0, "dur": 10.0},
              {"ph": "X", "cat": "cpu_op", "name": "aten::empty", "pid": 7, "tid": 1, "ts": 1030.0, "dur": 5.0},
              {"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "pid": 7, "tid": 1, "ts": 1100.0, "dur": 10.0},
              {"ph": "X", "cat": "user_annotation", "name": "Optimizer.step", "pid": 7, "tid": 1, "ts": 990.0,
               "dur": 500.0},
              {"ph": "s", "cat": "fwdbwd", "name": "fwdbwd", "pid": 7, "tid": 1, "ts": 1000.0, "id": 1}
            ]}
            """;

    @Test
    void selfTimeIsDurationLessDirectChildrenOnTheSameThread(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("py.trace.json");
        Files.writeString(f, KINETO);
        OpTrace t = OpTrace.read(f);
        assertEquals(100 - 10 - 70, t.operators().get("aten::linear").selfMicros(), 1e-9);
        assertEquals(70 - 5 + 10, t.operators().get("aten::addmm").selfMicros(), 1e-9);
        assertEquals(2, t.operators().get("aten::addmm").calls());
        assertEquals(5, t.operators().get("aten::empty").selfMicros(), 1e-9);
        assertEquals(10, t.operators().get("aten::t").selfMicros(), 1e-9);
        assertEquals(30, t.operators().get("aten::mul").selfMicros(), 1e-9);
        assertFalse(t.operators().containsKey("Optimizer.step"));
        assertEquals(100 + 10 + 30, t.topLevelMicros(), 1e-9);
        assertEquals(t.topLevelMicros(), t.selfMicros(), 1e-9);
    }

    @Test
    void libtorchsBareArrayWithStringProcessIdIsRead(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("ours.trace.json");
        // libtorch's legacy profiler: a bare array, no category, pid "CPU Functions", a child listed before its parent
        Files.writeString(f, """
                [
                {"name": "aten::view", "ph": "X", "ts": 10.5, "dur": 2.0, "tid": 1, "pid": "CPU Functions", "args": {}},
                {"name": "aten::reshape", "ph": "X", "ts": 10.0, "dur": 4.0, "tid": 1, "pid": "CPU Functions", "args": {}}
                ]
                """);
        OpTrace t = OpTrace.read(f);
        assertEquals(2.0, t.operators().get("aten::reshape").selfMicros(), 1e-9);
        assertEquals(2.0, t.operators().get("aten::view").selfMicros(), 1e-9);
        assertEquals(4.0, t.topLevelMicros(), 1e-9);
    }

    @Test
    void aTraceWithoutOperatorsIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("empty.json");
        Files.writeString(f, "{\"traceEvents\": [{\"ph\": \"M\", \"name\": \"process_name\"}]}");
        IOException e = assertThrows(IOException.class, () -> OpTrace.read(f));
        assertTrue(e.getMessage().contains("empty.json holds no operator events"), e.getMessage());
        Files.writeString(f, "not json");
        e = assertThrows(IOException.class, () -> OpTrace.read(f));
        assertTrue(e.getMessage().contains("empty.json is not a readable Chrome trace"), e.getMessage());
    }

    @Test
    void tableListsTheLargestDifferencesPerStepThenTheRestAndTotals(@TempDir Path dir) throws IOException {
        Path py = dir.resolve("py.json");
        Files.writeString(py, """
                {"traceEvents": [
                {"ph": "X", "cat": "cpu_op", "name": "aten::linear", "pid": 1, "tid": 1, "ts": 0, "dur": 100000},
                {"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "pid": 1, "tid": 1, "ts": 1000, "dur": 70000},
                {"ph": "X", "cat": "cpu_op", "name": "aten::mul", "pid": 1, "tid": 1, "ts": 200000, "dur": 30000},
                {"ph": "X", "cat": "cpu_op", "name": "aten::t", "pid": 1, "tid": 1, "ts": 300000, "dur": 20000}
                ]}
                """);
        Path ours = dir.resolve("ours.json");
        Files.writeString(ours, """
                [
                {"name": "aten::linear", "ph": "X", "ts": 0, "dur": 140000, "tid": 1, "pid": "CPU Functions"},
                {"name": "aten::addmm", "ph": "X", "ts": 10000, "dur": 100000, "tid": 1, "pid": "CPU Functions"},
                {"name": "aten::mul", "ph": "X", "ts": 200000, "dur": 30000, "tid": 1, "pid": "CPU Functions"},
                {"name": "aten::div", "ph": "X", "ts": 300000, "dur": 6000, "tid": 1, "pid": "CPU Functions"}
                ]
                """);
        // two steps; per step: addmm 50 vs 35 ms, t 0 vs 10, linear 20 vs 15, then div 3 vs 0 and mul 15 vs 15
        String[] lines = OpProfileTable.render(OpTrace.read(ours), OpTrace.read(py), 2, 3).split("\n");
        assertEquals(7, lines.length);
        assertEquals("| `aten::addmm` | 50.0 | 0.5 | 35.0 | 0.5 | +15.0 |", lines[2]);
        assertEquals("| `aten::linear` | 20.0 | 0.5 | 15.0 | 0.5 | +5.0 |", lines[3]);
        assertEquals("| `aten::t` | 0.0 | 0 | 10.0 | 0.5 | -10.0 |", lines[4]);
        assertEquals("| the other 2 operators | 18.0 | 1 | 15.0 | 0.5 | +3.0 |", lines[5]);
        assertEquals("| **total** | 88.0 | 2 | 75.0 | 2 | +13.0 |", lines[6]);
    }

    @Test
    void twoOfOurMethodsAreComparedUnderTheirOwnLabels(@TempDir Path dir) throws IOException {
        Path lora = dir.resolve("lora.json");
        Path full = dir.resolve("full.json");
        Files.writeString(lora, "[{\"name\": \"aten::mm\", \"ph\": \"X\", \"ts\": 0, \"dur\": 4000, \"tid\": 1}]");
        Files.writeString(full, "[{\"name\": \"aten::mm\", \"ph\": \"X\", \"ts\": 0, \"dur\": 10000, \"tid\": 1}]");
        String[] lines = OpProfileTable.render(OpTrace.read(lora), "lora", OpTrace.read(full), "full", 2, 5)
                .split("\n");
        assertEquals("| operator | lora ms/step | lora calls/step | full ms/step | full calls/step | lora − full ms/step |",
                lines[0]);
        assertEquals("| `aten::mm` | 2.0 | 0.5 | 5.0 | 0.5 | -3.0 |", lines[2]);
    }

    @Test
    void withoutPythonItsColumnsStayEmpty(@TempDir Path dir) throws IOException {
        Path ours = dir.resolve("ours.json");
        Files.writeString(ours, "[{\"name\": \"aten::mm\", \"ph\": \"X\", \"ts\": 0, \"dur\": 4000, \"tid\": 1}]");
        String[] lines = OpProfileTable.render(OpTrace.read(ours), null, 1, 5).split("\n");
        assertEquals("| `aten::mm` | 4.0 | 1 |  |  |  |", lines[2]);
    }
}
