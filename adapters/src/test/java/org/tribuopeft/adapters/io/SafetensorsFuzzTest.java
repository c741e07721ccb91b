package org.tribuopeft.adapters.io;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged and hostile safetensors files (flipped bytes, truncations, generated headers with wrong dtypes, bad
 * shapes and offsets, absurd header lengths) give a {@link ModelFileException} or a correct read, never another
 * exception type and never a hang. Fixed seeds, so a failure reproduces.
 */
class SafetensorsFuzzTest {
    static final long CASE_SECONDS = 5;
    static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL", "f32", "F8", "",
        "Q4_0"};

    static ExecutorService runner;
    static byte[] original;

    @BeforeAll
    static void setUp(@TempDir Path tmp) throws Exception {
        runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "safetensors-fuzz");
            t.setDaemon(true);
            return t;
        });
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("encoder.layer.0.attention.self.query.lora_A.weight",
                new HostTensor(new long[] {2, 3}, new float[] {1, -2, 3, -4, 5, -6}));
        tensors.put("encoder.layer.0.attention.self.query.lora_B.weight",
                new HostTensor(new long[] {3, 2}, new float[] {0.5f, 0.25f, -1, 2, 1e-3f, 7}));
        tensors.put("empty", new HostTensor(new long[] {0, 4}, new float[0]));
        tensors.put("scalar", new HostTensor(new long[] {}, new float[] {42}));
        Path file = tmp.resolve("small.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("note", "fuzz"));
        original = Files.readAllBytes(file);
    }

    @AfterAll
    static void tearDown() {
        runner.shutdownNow();
    }

    /** Counts of outcomes; any case outside them is a failure listed in {@code unexpected}. */
    static final class Outcomes {
        int read;
        int refused;
        final List<String> unexpected = new ArrayList<>();
    }

    static void check(Path file, byte[] bytes, String label, Outcomes o) throws Exception {
        Files.write(file, bytes);
        Future<Throwable> f = runner.submit(() -> {
            try {
                SafetensorsReader.Content c = SafetensorsReader.read(file);
                c.floats().values().forEach(t -> assertEquals(HostTensor.elementCount(t.shape()), t.data().length));
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Throwable t;
        try {
            t = f.get(CASE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            o.unexpected.add(label + ": still running after " + CASE_SECONDS + " s");
            return;
        }
        if (t == null) {
            o.read++;
        } else if (t instanceof ModelFileException m && m.getMessage().startsWith(file.toString())) {
            o.refused++;
        } else {
            o.unexpected.add(label + ": " + t);
        }
    }

    @Test
    void flippedBytesAndTruncationsOnlyEverGiveModelFileException(@TempDir Path tmp) throws Exception {
        SplittableRandom rnd = new SplittableRandom(20261202L);
        Path file = tmp.resolve("case.safetensors");
        long headerLen = ByteBuffer.wrap(original, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Outcomes o = new Outcomes();
        for (int i = 0; i < 300; i++) {
            byte[] b = original.clone();
            int flips = 1 + rnd.nextInt(4);
            StringBuilder label = new StringBuilder("flip#" + i);
            for (int k = 0; k < flips; k++) {
                // mostly inside the length field and the header, where a flip changes what the reader believes
                int pos = rnd.nextInt(10) < 8 ? rnd.nextInt((int) (8 + headerLen)) : rnd.nextInt(b.length);
                b[pos] = (byte) rnd.nextInt(256);
                label.append(" @").append(pos);
            }
            check(file, b, label.toString(), o);
        }
        for (int i = 0; i < 100; i++) {
            int len = rnd.nextInt(original.length);
            check(file, Arrays.copyOf(original, len), "truncated to " + len, o);
        }
        assertTrue(o.unexpected.isEmpty(), o.unexpected.size() + " unexpected outcomes: " + o.unexpected);
        assertEquals(400, o.read + o.refused);
        assertTrue(o.refused >= 200 && o.read >= 10, "read " + o.read + ", refused " + o.refused);
    }

    @Test
    void generatedHeadersOnlyEverGiveModelFileException(@TempDir Path tmp) throws Exception {
        SplittableRandom rnd = new SplittableRandom(7L);
        Path file = tmp.resolve("case.safetensors");
        Outcomes o = new Outcomes();
        for (int i = 0; i < 300; i++) {
            String header = header(rnd);
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            int dataLen = rnd.nextInt(200);
            long claimed = switch (rnd.nextInt(8)) {
                case 0 -> Long.MAX_VALUE;
                case 1 -> -1L - rnd.nextInt(1000);
                case 2 -> h.length + 1L + rnd.nextInt(500);
                case 3 -> Math.max(0, h.length - 1 - rnd.nextInt(Math.max(1, h.length)));
                default -> h.length;
            };
            ByteBuffer all = ByteBuffer.allocate(8 + h.length + dataLen).order(ByteOrder.LITTLE_ENDIAN);
            all.putLong(claimed).put(h);
            for (int k = 0; k < dataLen; k++) {
                all.put((byte) rnd.nextInt(256));
            }
            check(file, all.array(), "header#" + i + " (claimed " + claimed + ", data " + dataLen + "): " + header, o);
        }
        assertTrue(o.unexpected.isEmpty(), o.unexpected.size() + " unexpected outcomes: " + o.unexpected);
        assertEquals(300, o.read + o.refused);
        assertTrue(o.refused >= 150 && o.read >= 1, "read " + o.read + ", refused " + o.refused);
    }

    @Test
    void fractionalShapesAndOffsetsAreRefusedRatherThanRoundedDown(@TempDir Path tmp) throws Exception {
        // Jackson's canConvertToLong() accepts 1.5, and asLong() turned [1.5, 2] into [1, 2] and read the tensor
        String[][] cases = {
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5,2],\"data_offsets\":[0,8]}}",
                "tensor 'a' has an invalid dimension 1.5 in its shape"},
            {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0.5,8]}}",
                "tensor 'a' has data_offsets [0.5,8]; expected [begin, end]"}};
        for (String[] c : cases) {
            byte[] h = c[0].getBytes(StandardCharsets.UTF_8);
            Path file = tmp.resolve("fraction.safetensors");
            Files.write(file, ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length)
                    .put(h).array());
            ModelFileException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFileException.class,
                    () -> SafetensorsReader.read(file));
            assertEquals(file + ": " + c[1], e.getMessage());
        }
    }

    @Test
    void aFolderGivenAsTheFileIsAModelFileExceptionNamingIt(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("model.safetensors"));
        ModelFileException e = org.junit.jupiter.api.Assertions.assertThrows(ModelFileException.class,
                () -> SafetensorsReader.read(dir));
        assertEquals(dir + ": is a folder, not a safetensors file", e.getMessage());
    }

    /** A JSON-ish header: mostly well-formed entries with one or more hostile fields, sometimes broken syntax. */
    static String header(SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder("{");
        int n = rnd.nextInt(4);
        long offset = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append('"').append(rnd.nextInt(5) == 0 ? "__metadata__" : "t" + i).append("\":");
            switch (rnd.nextInt(12)) {
                case 0 -> sb.append(value(rnd));
                case 1 -> sb.append("{\"dtype\":\"F32\"}");
                default -> {
                    String dtype = DTYPES[rnd.nextInt(DTYPES.length)];
                    long[] dims = new long[rnd.nextInt(4)];
                    long count = 1;
                    for (int d = 0; d < dims.length; d++) {
                        dims[d] = rnd.nextInt(4);
                        count *= dims[d];
                    }
                    long bytes = count * 4;
                    long begin = offset;
                    long end = offset + bytes;
                    offset = end;
                    sb.append("{\"dtype\":").append(rnd.nextInt(10) == 0 ? value(rnd) : "\"" + dtype + "\"");
                    sb.append(",\"shape\":").append(rnd.nextInt(6) == 0 ? hostileShape(rnd) : Arrays.toString(dims));
                    sb.append(",\"data_offsets\":").append(rnd.nextInt(5) == 0 ? hostileOffsets(rnd, begin, end)
                            : "[" + begin + "," + end + "]");
                    sb.append('}');
                }
            }
        }
        sb.append('}');
        String s = sb.toString();
        if (rnd.nextInt(10) == 0) {
            int cut = rnd.nextInt(s.length() + 1);
            s = s.substring(0, cut);
        }
        return s;
    }

    static String value(SplittableRandom rnd) {
        return switch (rnd.nextInt(9)) {
            case 0 -> "null";
            case 1 -> "[]";
            case 2 -> "\"x\"";
            case 3 -> "-1";
            case 4 -> "1e400";
            case 5 -> "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]";
            case 6 -> "{\"format\":\"pt\"}";
            case 7 -> "true";
            default -> "\"\\ud800\"";
        };
    }

    static String hostileShape(SplittableRandom rnd) {
        return switch (rnd.nextInt(9)) {
            case 0 -> "[-1, 4]";
            case 1 -> "[4611686018427387904, 4]";
            case 2 -> "[3037000500, 3037000500]";
            case 3 -> "[2147483647, 2147483647, 2147483647]";
            case 4 -> "[9223372036854775807]";
            case 5 -> "[1.5, 2]";
            case 6 -> "[\"2\", 3]";
            case 7 -> "[99999999999999999999999]";
            default -> "5";
        };
    }

    static String hostileOffsets(SplittableRandom rnd, long begin, long end) {
        return switch (rnd.nextInt(9)) {
            case 0 -> "[" + end + "," + begin + "]";
            case 1 -> "[-8," + end + "]";
            case 2 -> "[" + begin + ",9223372036854775807]";
            case 3 -> "[0," + end + "]";
            case 4 -> "[" + begin + "]";
            case 5 -> "[9223372036854775800, 9223372036854775807]";
            case 6 -> "[" + begin + ".5," + end + "]";
            case 7 -> "{\"begin\":" + begin + "}";
            default -> "[" + begin + "," + end + ",7]";
        };
    }
}
