package org.tribuopeft.cli;

import org.tribuopeft.server.Batching;
import org.tribuopeft.server.ServerSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The {@code serve} command's options turned into {@link ServerSettings}, with a usage error for each bad value. */
final class ServeOptions {
    private ServeOptions() {}

    static ServerSettings settings(CliArgs a) {
        List<Path> folders = Arrays.stream(a.require("adapters").split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(Paths::get).toList();
        ServerSettings d = ServerSettings.defaults(a.get("base", "all-minilm-l6-v2"), folders);
        Set<String> pins = new LinkedHashSet<>();
        for (String p : a.get("pin", "").split(",")) {
            if (!p.isBlank()) {
                pins.add(p.trim());
            }
        }
        String token = null;
        if (a.has("token-file")) {
            Path f = Paths.get(a.require("token-file"));
            try {
                token = Files.readString(f, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new CliException("--token-file " + f + " cannot be read: " + e.getMessage());
            }
            if (token.isEmpty()) {
                throw new CliException("--token-file " + f + " is empty; put the bearer token in it");
            }
        }
        Batching batching;
        try {
            batching = Batching.valueOf(a.get("batching", "mixed").toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new CliException("--batching must be mixed, per-adapter or merged, got '" + a.get("batching", "") + "'");
        }
        try {
            ServerSettings s = new ServerSettings(d.base(), d.adapterFolders(), a.get("host", d.host()),
                    integer(a, "port", d.port()), longValue(a, "cache-bytes", d.cacheBytes()), pins, d.token(), batching,
                    integer(a, "max-batch-tokens", d.maxBatchTokens()), longValue(a, "max-wait-ms", d.maxWaitMillis()),
                    integer(a, "max-queue", d.maxQueue()), integer(a, "max-texts", d.maxTexts()),
                    integer(a, "max-request-bytes", d.maxRequestBytes()), d.loaderThreads(), d.httpThreads());
            return token == null ? s : s.withToken(token);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    private static int integer(CliArgs a, String name, int dflt) {
        return (int) longValue(a, name, dflt);
    }

    private static long longValue(CliArgs a, String name, long dflt) {
        String v = a.get(name, null);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new CliException("--" + name + " must be a whole number, got '" + v + "'");
        }
    }
}
