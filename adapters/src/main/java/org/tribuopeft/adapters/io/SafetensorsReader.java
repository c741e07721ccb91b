package org.tribuopeft.adapters.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.tensor.HostTensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the
 * raw tensor bytes. Every claim the header makes (length, dtypes, shapes, offsets) is checked
 * against the file before any byte is trusted, and each failure names the file and the tensor.
 */
public final class SafetensorsReader {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsReader() {}

    /** Where one tensor lies in the file and what it holds. */
    public record TensorEntry(String name, SafetensorsDType dtype, long[] shape, long begin, long end) {
        /** The shape as a printable list. */
        public String shapeString() {
            return Arrays.toString(shape);
        }
    }

    /**
     * The parsed content of a safetensors file.
     *
     * @param file where it was read from
     * @param metadata the {@code __metadata__} strings (empty if absent)
     * @param entries every tensor's header entry, in header order
     * @param floats the floating-point tensors converted to float32, by name
     */
    public record Content(Path file, Map<String, String> metadata, Map<String, TensorEntry> entries,
                          Map<String, HostTensor> floats) {}

    /**
     * Reads every tensor of a file, converting F32/F16/BF16/F64 tensors to float32. Integer tensors
     * (for example a stored {@code position_ids} buffer) are listed in {@link Content#entries()} only.
     *
     * @throws ModelFileException when the file is missing, truncated or its header is inconsistent
     */
    public static Content read(Path file) throws IOException {
        Map<String, HostTensor> floats = new LinkedHashMap<>();
        Content c = read(file, floats::put);
        return new Content(c.file(), c.metadata(), c.entries(), Collections.unmodifiableMap(floats));
    }

    /** Receives a file's floating-point tensors one at a time, converted to float32. */
    @FunctionalInterface
    public interface FloatSink {
        /**
         * Takes one tensor.
         *
         * @param name the tensor's key in the file
         * @param tensor its values in float32
         */
        void accept(String name, HostTensor tensor) throws IOException;
    }

    /**
     * Reads a file's floating-point tensors one at a time into {@code sink}, keeping none of them, so a loader can
     * convert each (quantize it) before the next is read. The returned content has no floats.
     *
     * @throws ModelFileException when the file is missing, truncated or its header is inconsistent
     */
    public static Content readEach(Path file, FloatSink sink) throws IOException {
        return read(file, sink);
    }

    private static Content read(Path file, FloatSink sink) throws IOException {
        if (Files.isDirectory(file)) {
            throw new ModelFileException(file, "is a folder, not a safetensors file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ModelFileException(file, "is " + size + " bytes long, too short to be a safetensors file "
                        + "(it needs at least an 8-byte header length)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES) {
                throw new ModelFileException(file, "claims a header of " + Long.toUnsignedString(headerLen)
                        + " bytes, which is not plausible (limit " + MAX_HEADER_BYTES
                        + "); the file is corrupt or not safetensors");
            }
            if (8 + headerLen > size) {
                throw new ModelFileException(file, "claims a header of " + headerLen + " bytes but the file has only "
                        + (size - 8) + " bytes after the length field; it is truncated");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            String headerText = new String(headerBuf.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorEntry> entries = parseHeader(file, headerText, dataLen, metadata);
            for (TensorEntry e : entries.values()) {
                if (e.dtype().isFloatingPoint()) {
                    sink.accept(e.name(), readTensor(ch, file, e, dataStart));
                }
            }
            return new Content(file, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(entries),
                    Map.of());
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "does not exist", e);
        } catch (ModelFileException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot be read: " + e, e);
        }
    }

    private static Map<String, TensorEntry> parseHeader(Path file, String headerText, long dataLen,
                                                        Map<String, String> metadata) throws ModelFileException {
        JsonNode root;
        try {
            root = JSON.readTree(headerText);
        } catch (JsonProcessingException e) {
            throw new ModelFileException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(root instanceof ObjectNode)) {
            throw new ModelFileException(file, "header must be a JSON object, found " + root.getNodeType());
        }
        Map<String, TensorEntry> entries = new LinkedHashMap<>();
        List<TensorEntry> byOffset = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals("__metadata__")) {
                for (Iterator<Map.Entry<String, JsonNode>> m = node.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            TensorEntry entry = parseEntry(file, name, node, dataLen);
            entries.put(name, entry);
            byOffset.add(entry);
        }
        byOffset.sort((a, b) -> Long.compare(a.begin(), b.begin()));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorEntry prev = byOffset.get(i - 1);
            TensorEntry cur = byOffset.get(i);
            if (cur.begin() < prev.end()) {
                throw new ModelFileException(file, "tensors '" + prev.name() + "' and '" + cur.name()
                        + "' overlap in the data section; the header is corrupt");
            }
        }
        return entries;
    }

    private static TensorEntry parseEntry(Path file, String name, JsonNode node, long dataLen)
            throws ModelFileException {
        String where = "tensor '" + name + "'";
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsetsNode == null) {
            throw new ModelFileException(file, where + " lacks one of dtype, shape, data_offsets in the header");
        }
        SafetensorsDType dtype = SafetensorsDType.parse(dtypeNode.asText())
                .orElseThrow(() -> new ModelFileException(file, where + " has unknown dtype '" + dtypeNode.asText()
                        + "'; supported: " + Arrays.toString(SafetensorsDType.values())));
        if (!shapeNode.isArray()) {
            throw new ModelFileException(file, where + " has a shape that is not a list");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!isLong(d) || d.asLong() < 0) {
                throw new ModelFileException(file, where + " has an invalid dimension " + d + " in its shape");
            }
            shape[i] = d.asLong();
        }
        if (!offsetsNode.isArray() || offsetsNode.size() != 2
                || !isLong(offsetsNode.get(0)) || !isLong(offsetsNode.get(1))) {
            throw new ModelFileException(file, where + " has data_offsets " + offsetsNode + "; expected [begin, end]");
        }
        long begin = offsetsNode.get(0).asLong();
        long end = offsetsNode.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw new ModelFileException(file, where + " has data_offsets [" + begin + ", " + end + "] that are not "
                    + "an increasing pair");
        }
        if (end > dataLen) {
            throw new ModelFileException(file, where + " has data_offsets [" + begin + ", " + end
                    + "] that run past the end of the data section (" + dataLen + " bytes); the file is truncated "
                    + "or the header is corrupt");
        }
        long count;
        try {
            count = Math.multiplyExact(HostTensor.elementCount(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new ModelFileException(file, where + " has a shape " + Arrays.toString(shape) + " too large to hold");
        }
        if (end - begin != count) {
            throw new ModelFileException(file, where + " is " + dtype + Arrays.toString(shape) + " which needs " + count
                    + " bytes, but its data_offsets span " + (end - begin));
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    /** A JSON integer that fits a long; Jackson's canConvertToLong alone also accepts 1.5 and rounds it down. */
    private static boolean isLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong();
    }

    private static HostTensor readTensor(FileChannel ch, Path file, TensorEntry e, long dataStart)
            throws IOException {
        long elements = HostTensor.elementCount(e.shape());
        if (elements > Integer.MAX_VALUE - 8) {
            throw new ModelFileException(file, "tensor '" + e.name() + "' has " + elements
                    + " elements, more than one Java array can hold");
        }
        long bytes = e.end() - e.begin();
        ByteBuffer buf = bytes == 0 ? ByteBuffer.allocate(0)
                : ch.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), bytes);
        buf.order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[(int) elements];
        e.dtype().decodeFloats(buf, values);
        return new HostTensor(e.shape(), values);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new ModelFileException(file, "ended unexpectedly at byte " + pos);
            }
            pos += n;
        }
    }
}
