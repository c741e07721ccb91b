package org.tribuopeft.plugin;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.adapters.io.ModelFileException;
import org.tribuopeft.adapters.lora.LoraConfig;
import org.tribuopeft.adapters.testing.TinyBert;
import org.tribuopeft.plugin.protos.AdapterModelProto;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Randomly damaged copies of a real saved model (changed, inserted and deleted bytes, truncations) are either
 * refused by {@link AdapterModels#load} with a {@link ModelFileException} that names the file and whose cause is
 * one of the failures it explains, or, when the damage hit nothing the model depends on, load and predict exactly
 * as the original. Fixed seed; each case is bounded in time.
 */
class ModelFileFuzzTest {
    static final long CASE_SECONDS = 30;
    static final List<Example<Label>> TEST = TinyDatasets.examples(6, 2, TinyDatasets::label);

    static ExecutorService runner;
    static byte[] original;
    static List<String> expected;

    @BeforeAll
    static void train() {
        runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "model-file-fuzz");
            t.setDaemon(true);
            return t;
        });
        AdapterModel<Label> model = new AdapterTrainer<Label>(TinyBert.folder(21).toString(),
                new LoraConfig(2, 4, 0.0, List.of("value")), 24, 8, 1, 5e-3, 5).withProgressSeconds(0)
                .train(TinyDatasets.labels(16, 1));
        original = model.serialize().toByteArray();
        expected = scores(model);
        model.close();
    }

    @AfterAll
    static void stop() {
        runner.shutdownNow();
    }

    static List<String> scores(Model<Label> m) {
        return m.predict(TEST).stream().map(p -> p.getOutputScores().toString()).toList();
    }

    /** Outcomes of the cases; anything unexplained is listed in {@code unexpected}. */
    static final class Outcomes {
        int loadedIdentical;
        int refused;
        final List<String> unexpected = new ArrayList<>();
    }

    static boolean explained(Throwable cause) {
        return cause == null || cause instanceof CorruptModelException || cause instanceof BaseModelMismatchException
                || cause instanceof ModelFileException || cause instanceof InvalidProtocolBufferException
                || cause instanceof ClassNotFoundException || cause instanceof LinkageError;
    }

    static void check(Path file, byte[] bytes, String label, Outcomes o) throws Exception {
        Files.write(file, bytes);
        Future<String> f = runner.submit(() -> {
            try {
                @SuppressWarnings("unchecked")
                Model<Label> m = (Model<Label>) AdapterModels.load(file);
                try {
                    return scores(m).equals(expected) ? "identical" : "loaded with different predictions";
                } finally {
                    if (m instanceof AutoCloseable c) {
                        c.close();
                    }
                }
            } catch (ModelFileException e) {
                if (!e.getMessage().startsWith(file + ": ") || !explained(e.getCause())) {
                    return "unexplained refusal: " + e.getMessage() + " (cause " + e.getCause() + ")";
                }
                return "refused";
            } catch (Throwable t) {
                return "unexpected " + t;
            }
        });
        String outcome;
        try {
            outcome = f.get(CASE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            outcome = "still running after " + CASE_SECONDS + " s";
        }
        switch (outcome) {
            case "identical" -> o.loadedIdentical++;
            case "refused" -> o.refused++;
            default -> o.unexpected.add(label + ": " + outcome);
        }
    }

    @Test
    void damagedModelFilesAreRefusedWithTheirCauseOrPredictExactlyAsBefore(@TempDir Path tmp) throws Exception {
        SplittableRandom rnd = new SplittableRandom(90210L);
        Path file = tmp.resolve("model.tribuo");
        Outcomes o = new Outcomes();
        int cases = 0;
        for (int i = 0; i < 160; i++, cases++) {
            byte[] b = original.clone();
            StringBuilder label = new StringBuilder("changed#" + i);
            int changes = 1 + rnd.nextInt(3);
            for (int k = 0; k < changes; k++) {
                // half the changes land in the first 4 KiB: Tribuo's header, the metadata and the base reference
                int pos = rnd.nextBoolean() ? rnd.nextInt(Math.min(4096, b.length)) : rnd.nextInt(b.length);
                b[pos] = (byte) (b[pos] ^ (1 + rnd.nextInt(255)));
                label.append(" @").append(pos);
            }
            check(file, b, label.toString(), o);
        }
        for (int i = 0; i < 40; i++, cases++) {
            int len = rnd.nextInt(original.length);
            check(file, Arrays.copyOf(original, len), "truncated to " + len, o);
        }
        for (int i = 0; i < 30; i++, cases++) {
            int pos = rnd.nextInt(original.length);
            byte[] b;
            if (i % 2 == 0) {
                b = new byte[original.length + 1];
                System.arraycopy(original, 0, b, 0, pos);
                b[pos] = (byte) rnd.nextInt(256);
                System.arraycopy(original, pos, b, pos + 1, original.length - pos);
            } else {
                b = new byte[original.length - 1];
                System.arraycopy(original, 0, b, 0, pos);
                System.arraycopy(original, pos + 1, b, pos, original.length - pos - 1);
            }
            check(file, b, (i % 2 == 0 ? "inserted at " : "deleted at ") + pos, o);
        }
        // one damage known to be harmless: the host part of the Any's type URL, which protobuf ignores
        int host = new String(original, StandardCharsets.ISO_8859_1).indexOf("googleapis.com");
        byte[] harmless = original.clone();
        harmless[host] = 'G';
        check(file, harmless, "type URL host changed", o);
        cases++;
        assertTrue(o.unexpected.isEmpty(), o.unexpected.size() + " unexpected outcomes: " + o.unexpected);
        assertEquals(cases, o.refused + o.loadedIdentical);
        assertTrue(o.loadedIdentical >= 1, "the harmless change should load");
        assertTrue(o.refused >= cases * 9 / 10, "refused " + o.refused + " of " + cases);
    }

    @Test
    void damagedUnverifiableVersionZeroFilesLoadOrAreRefusedWithTheirCause(@TempDir Path tmp) throws Exception {
        ModelProto proto = ModelProto.parseFrom(original);
        AdapterModelProto content = proto.getSerializedData().unpack(AdapterModelProto.class).toBuilder()
                .clearContentSha256().build();
        byte[] legacy = proto.toBuilder().setVersion(0).setSerializedData(Any.pack(content)).build().toByteArray();
        SplittableRandom rnd = new SplittableRandom(4242L);
        Path file = tmp.resolve("model.tribuo");
        List<String> unexpected = new ArrayList<>();
        int refused = 0;
        for (int i = 0; i < 120; i++) {
            byte[] b = legacy.clone();
            int pos = rnd.nextBoolean() ? rnd.nextInt(Math.min(4096, b.length)) : rnd.nextInt(b.length);
            b[pos] = (byte) (b[pos] ^ (1 + rnd.nextInt(255)));
            Files.write(file, b);
            Future<String> f = runner.submit(() -> {
                try {
                    Model<?> m = AdapterModels.load(file);
                    if (m instanceof AutoCloseable c) {
                        c.close();
                    }
                    return "loaded";
                } catch (ModelFileException e) {
                    return e.getMessage().startsWith(file + ": ") && explained(e.getCause()) ? "refused"
                            : "unexplained refusal: " + e.getMessage();
                } catch (Throwable t) {
                    return "unexpected " + t;
                }
            });
            String outcome = f.get(CASE_SECONDS, TimeUnit.SECONDS);
            if (outcome.equals("refused")) {
                refused++;
            } else if (!outcome.equals("loaded")) {
                unexpected.add("changed @" + pos + ": " + outcome);
            }
        }
        assertTrue(unexpected.isEmpty(), unexpected.size() + " unexpected outcomes: " + unexpected);
        assertTrue(refused >= 10, "refused " + refused);
    }
}
