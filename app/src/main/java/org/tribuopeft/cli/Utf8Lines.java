package org.tribuopeft.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a text file as UTF-8 lines, line by line, so a byte that is not UTF-8 is reported with its line
 * and byte offset instead of Java's bare "Input length = 1". A leading byte-order mark is skipped and
 * Windows line ends are accepted.
 */
final class Utf8Lines {
    private Utf8Lines() {}

    /**
     * The lines of {@code file}, without line terminators.
     *
     * @throws InputFileException naming the line, the byte and its offset when the file is not UTF-8
     */
    static List<String> read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int pos = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB
                && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> lines = new ArrayList<>();
        int lineNo = 0;
        while (pos < bytes.length) {
            int end = pos;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            lineNo++;
            int stop = end > pos && bytes[end - 1] == '\r' ? end - 1 : end;
            ByteBuffer in = ByteBuffer.wrap(bytes, pos, stop - pos);
            CharBuffer out = CharBuffer.allocate(stop - pos);
            decoder.reset();
            CoderResult r = decoder.decode(in, out, true);
            if (!r.isError()) {
                r = decoder.flush(out);
            }
            if (r.isError()) {
                int offset = in.position();
                throw new InputFileException(file, lineNo, String.format(Locale.ROOT, "byte 0x%02X at byte offset %d "
                        + "of the file is not UTF-8; input files must be UTF-8 text: convert it, e.g. with "
                        + "'iconv -f ISO-8859-1 -t UTF-8' for a Latin-1 file", bytes[offset] & 0xff, offset));
            }
            lines.add(out.flip().toString());
            pos = end + 1;
        }
        return lines;
    }
}
