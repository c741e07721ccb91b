package org.tribuopeft.plugin.data;

import com.opencsv.CSVReader;
import com.opencsv.CSVReaderBuilder;
import com.opencsv.RFC4180ParserBuilder;
import com.opencsv.exceptions.CsvValidationException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CSV file read whole: its header and its records, each with the line it starts on (so a quoted
 * text spanning lines does not shift the line numbers of later rows). Handles a UTF-8 byte-order mark,
 * CRLF line ends, quoted separators and newlines (RFC 4180), and skips blank lines.
 *
 * @param file the file read
 * @param header the column names of the first line, trimmed
 * @param records the rows below the header, in file order
 */
public record CsvRecords(Path file, List<String> header, List<Record> records) {

    /**
     * One row of the file.
     *
     * @param line the 1-based line the row starts on
     * @param cells the row's cells, one per header column
     */
    public record Record(long line, String[] cells) {}

    /**
     * Reads a CSV file.
     *
     * @param file the file
     * @param separator the field separator, usually ','
     * @param quote the quote character, usually '"'
     * @throws DataFileException when the file is missing, unreadable, empty, not UTF-8, badly quoted, or a row
     *     has a different number of fields than the header
     */
    public static CsvRecords read(Path file, char separator, char quote) {
        if (!Files.exists(file)) {
            throw new DataFileException(file, "data file " + file.toAbsolutePath() + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new DataFileException(file, "data file " + file.toAbsolutePath() + " is a directory, not a CSV file");
        }
        long[] recordStart = {1};
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVReader csv = new CSVReaderBuilder(in)
                     .withCSVParser(new RFC4180ParserBuilder().withSeparator(separator).withQuoteChar(quote).build())
                     .build()) {
            String[] first = csv.readNext();
            while (first != null && isBlankLine(first)) {
                first = csv.readNext();
            }
            if (first == null) {
                throw new DataFileException(file, "data file " + file + " is empty: it needs a header line naming its "
                        + "columns, then one line per example");
            }
            List<String> header = new ArrayList<>(first.length);
            for (int i = 0; i < first.length; i++) {
                // Spreadsheets save UTF-8 with a byte-order mark, which would otherwise become part of the first name.
                String name = i == 0 && first[0].startsWith("\uFEFF") ? first[0].substring(1) : first[i];
                header.add(name.trim());
            }
            List<Record> records = new ArrayList<>();
            long linesRead = csv.getLinesRead();
            String[] row;
            while (true) {
                recordStart[0] = linesRead + 1;
                row = csv.readNext();
                if (row == null) {
                    break;
                }
                long line = recordStart[0];
                linesRead = csv.getLinesRead();
                if (isBlankLine(row)) {
                    continue;
                }
                if (row.length != header.size()) {
                    throw new DataFileException(file, file + " line " + line + " has " + row.length + " fields but the "
                            + "header has " + header.size() + " columns " + header + "; put a text that contains the "
                            + "separator '" + separator + "' in quotes " + quote + "..." + quote);
                }
                records.add(new Record(line, row));
            }
            return new CsvRecords(file, List.copyOf(header), List.copyOf(records));
        } catch (CsvValidationException e) {
            throw new DataFileException(file, file + " is not valid CSV: " + e.getMessage(), e);
        } catch (CharacterCodingException e) {
            throw new DataFileException(file, file + " is not UTF-8 text; save it as UTF-8", e);
        } catch (NoSuchFileException e) {
            throw new DataFileException(file, "data file " + file.toAbsolutePath() + " does not exist", e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("quoted field")) {
                throw new DataFileException(file, file + " is not valid CSV: the quote opened in the row starting on "
                        + "line " + recordStart[0] + " is never closed; close it, or write a quote inside a text as two "
                        + "quotes", e);
            }
            throw new DataFileException(file, "cannot read data file " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean isBlankLine(String[] row) {
        return row.length == 1 && row[0].isBlank();
    }

    /** The position of a column in the header, or -1 when absent. */
    public int column(String name) {
        return header.indexOf(name);
    }
}
