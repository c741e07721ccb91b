package org.tribuopeft.adapters.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** F16 and BF16 tensors widen to exact float32 values; our writer round-trips F32 bit for bit. */
class SafetensorsDTypesTest {

    @Test
    void halfAndBfloat16WidenExactly(@TempDir Path tmp) throws Exception {
        // F16: 1.0 = 0x3C00, -2.5 = 0xC100, 65504 = 0x7BFF, smallest subnormal 2^-24 = 0x0001
        // BF16: 1.0 = 0x3F80, -2.5 = 0xC020, 3.140625 = 0x4049
        ByteBuffer data = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : new int[] {0x3C00, 0xC100, 0x7BFF, 0x0001}) {
            data.putShort((short) h);
        }
        for (int b : new int[] {0x3F80, 0xC020, 0x4049}) {
            data.putShort((short) b);
        }
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]}}";
        Path file = tmp.resolve("mixed.safetensors");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer all = ByteBuffer.allocate(8 + h.length + 14).order(ByteOrder.LITTLE_ENDIAN);
        all.putLong(h.length).put(h).put(data.array());
        Files.write(file, all.array());

        SafetensorsReader.Content c = SafetensorsReader.read(file);
        assertArrayEquals(new float[] {1.0f, -2.5f, 65504f, 0x1p-24f}, c.floats().get("h").data(), 0f);
        assertArrayEquals(new float[] {1.0f, -2.5f, 3.140625f}, c.floats().get("b").data(), 0f);
    }

    @Test
    void float32RoundTripIsBitExactWithMetadata(@TempDir Path tmp) throws Exception {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("a", new HostTensor(new long[] {2, 3}, new float[] {1, -0f, Float.MIN_VALUE, 3.5f, 1e30f, -7}));
        tensors.put("b", new HostTensor(new long[] {0}, new float[0]));
        Path file = tmp.resolve("rt.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("note", "hello"));
        SafetensorsReader.Content c = SafetensorsReader.read(file);
        assertEquals("pt", c.metadata().get("format"));
        assertEquals("hello", c.metadata().get("note"));
        for (String k : tensors.keySet()) {
            assertEquals(true, tensors.get(k).bitEquals(c.floats().get(k)), k);
        }
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes");
    }
}
