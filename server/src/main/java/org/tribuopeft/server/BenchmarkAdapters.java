package org.tribuopeft.server;

import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.io.SafetensorsReader;
import org.tribuopeft.adapters.io.SafetensorsWriter;
import org.tribuopeft.adapters.method.MethodRegistry;
import org.tribuopeft.adapters.peft.PeftAdapterWriter;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.plugin.AdapterExports;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.AdapterTrainer;
import org.tribuopeft.plugin.TextPresenceProcessor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The load generator's adapters: one adapter of the chosen method trained briefly on real IMDB reviews over the
 * real base, written as a PEFT folder, then {@code count} distinct copies whose tensors are perturbed with seeded
 * noise, so every adapter is its own set of weights (as many customers' adapters would be) at the same size.
 */
final class BenchmarkAdapters {
    private BenchmarkAdapters() {}

    /**
     * Writes (or reuses) {@code count} PEFT folders {@code a000, a001, ...} under {@code folder}.
     *
     * @return the adapter ids
     */
    static List<String> prepare(Path folder, String base, String method, int count, List<ImdbReviews.Review> reviews,
                                int maxLength, long seed) throws IOException {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(String.format("a%03d", i));
        }
        Path marker = folder.resolve("prepared-" + method + "-" + count + "-" + seed);
        if (Files.exists(marker)) {
            return ids;
        }
        Files.createDirectories(folder);
        Path seedDir = folder.resolve("seed-" + method);
        if (!Files.isRegularFile(seedDir.resolve(PeftAdapterWriter.WEIGHTS))) {
            MutableDataset<Label> ds = new MutableDataset<>(new SimpleDataSourceProvenance("imdb-slice",
                    OffsetDateTime.parse("2026-01-01T00:00:00Z"), new LabelFactory()), new LabelFactory());
            for (ImdbReviews.Review r : reviews.subList(0, 32)) {
                ArrayExample<Label> e = new ArrayExample<>(new Label(r.positive() ? "pos" : "neg"), Map.of("text", r.text()));
                e.add(TextPresenceProcessor.FEATURE, 1.0);
                ds.add(e);
            }
            AdapterTrainer<Label> trainer = new AdapterTrainer<Label>(base,
                    MethodRegistry.byName(method).benchmarkSettings(4), maxLength, 8, 1, 1e-3, seed)
                    .withProgressSeconds(0);
            AdapterModel<Label> model = trainer.train(ds);
            try {
                AdapterExports.write(model, seedDir, PeftKeyStyle.SEQUENCE_CLASSIFICATION, true);
            } finally {
                model.close();
            }
        }
        SafetensorsReader.Content weights = SafetensorsReader.read(seedDir.resolve(PeftAdapterWriter.WEIGHTS));
        SplittableRandom rng = new SplittableRandom(seed);
        for (String id : ids) {
            Path dir = folder.resolve(id);
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(seedDir)) {
                for (Path f : files.toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Map<String, HostTensor> perturbed = new LinkedHashMap<>();
            weights.floats().forEach((k, t) -> perturbed.put(k, perturb(t, rng.split())));
            SafetensorsWriter.write(dir.resolve(PeftAdapterWriter.WEIGHTS), perturbed, weights.metadata());
        }
        Files.writeString(marker, "adapters " + count + " of " + method + " on " + base + "\n");
        return ids;
    }

    private static HostTensor perturb(HostTensor t, SplittableRandom rng) {
        float[] d = t.data().clone();
        double rms = 0;
        for (float v : d) {
            rms += v * (double) v;
        }
        rms = Math.sqrt(rms / Math.max(1, d.length));
        double scale = 0.1 * rms + 1e-3;
        for (int i = 0; i < d.length; i++) {
            d[i] += (float) (rng.nextGaussian() * scale);
        }
        return new HostTensor(t.shape(), d);
    }
}
