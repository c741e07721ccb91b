package org.tribuopeft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.evaluation.Evaluation;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.io.OutputLocation;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.plugin.AdapterExports;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.EvaluationMetrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes what {@code train} produces into one folder, atomically (a failed run leaves an earlier folder
 * intact): {@code model.tribuo}, {@code adapter/}, {@code provenance.json}, {@code metrics.json} and
 * {@code report.html} (the run as a page a person can read: {@link RunReport}). The
 * folder is marked as ours, so files a user keeps in it are never deleted (see
 * {@link AtomicFiles#writeFolder(Path, AtomicFiles.FolderWriter, boolean)}).
 */
public final class RunOutputs {
    /** The Tribuo model file. */
    public static final String MODEL = "model.tribuo";
    /** The adapter folder. */
    public static final String ADAPTER = "adapter";
    /** The provenance file. */
    public static final String PROVENANCE = "provenance.json";
    /** The evaluation file. */
    public static final String METRICS = "metrics.json";
    /** The self-contained HTML report of the run. */
    public static final String REPORT = "report.html";
    /** Every top-level entry of the folder. */
    public static final List<String> ENTRIES = List.of(MODEL, ADAPTER, PROVENANCE, METRICS, REPORT);

    private static final ObjectMapper JSON = new ObjectMapper();

    private RunOutputs() {}

    /**
     * Checks, before training, that the folder can be written: not a file, creatable and writable, and
     * holding no files we did not write (unless {@code overwrite}, and then none where ours go).
     *
     * @throws org.tribuopeft.adapters.io.OutputLocationException naming the path at fault
     */
    public static void checkLocation(Path dir, boolean overwrite) throws IOException {
        OutputLocation.checkFolder(dir, ENTRIES, overwrite);
    }

    /** Writes the folder, refusing one that holds files we did not write. */
    public static <T extends Output<T>> void write(Path dir, Model<T> model, Evaluation<T> evaluation,
                                                   double trainSeconds) throws IOException {
        write(dir, model, evaluation, trainSeconds, false);
    }

    /**
     * Writes the folder.
     *
     * @param dir the output folder (replaced if we wrote it before)
     * @param model the trained model
     * @param evaluation its evaluation on the held-out data
     * @param trainSeconds wall time of training
     * @param overwrite whether to write next to files we did not write (they are kept)
     */
    public static <T extends Output<T>> void write(Path dir, Model<T> model, Evaluation<T> evaluation,
                                                   double trainSeconds, boolean overwrite) throws IOException {
        String provenance = provenanceJson(model);
        ObjectNode metrics = JSON.createObjectNode();
        metrics.put("model", model.getName());
        Map<String, Double> m = EvaluationMetrics.of(evaluation);
        ObjectNode values = metrics.putObject("test");
        m.forEach(values::put);
        metrics.put("test_examples", evaluation.getPredictions().size());
        metrics.put("train_seconds", trainSeconds);
        String metricsJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(metrics);
        String report = RunReport.html(model, evaluation, trainSeconds);
        AtomicFiles.writeFolder(dir, tmp -> {
            try (var out = Files.newOutputStream(tmp.resolve(MODEL))) {
                model.serialize().writeTo(out);
            }
            if (model instanceof AdapterModel<T> am) {
                AdapterExports.write(am, tmp.resolve(ADAPTER), PeftKeyStyle.SEQUENCE_CLASSIFICATION);
            }
            Files.writeString(tmp.resolve(PROVENANCE), provenance);
            Files.writeString(tmp.resolve(METRICS), metricsJson);
            Files.writeString(tmp.resolve(REPORT), report);
        }, overwrite);
    }

    /**
     * Writes the folder; if that fails, saves the trained model elsewhere first and throws an exception
     * that says where.
     *
     * @throws RunOutputException when the folder could not be written
     */
    public static <T extends Output<T>> void writeOrSaveModel(Path dir, Model<T> model, Evaluation<T> evaluation,
                                                              double trainSeconds, boolean overwrite) throws IOException {
        try {
            write(dir, model, evaluation, trainSeconds, overwrite);
        } catch (IOException | RuntimeException e) {
            throw failedAfterTraining("writing " + dir.toAbsolutePath() + " failed", dir, model, e);
        }
    }

    /**
     * Saves a trained model after a later step failed, and describes both in one exception.
     *
     * @param what what failed, e.g. "evaluation on the test data failed"
     * @param dir the requested output folder, or null; the model goes next to it, else to the temp folder
     * @param model the trained model
     * @param cause the failure
     */
    public static RunOutputException failedAfterTraining(String what, Path dir, Model<?> model, Throwable cause) {
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        List<String> tried = new ArrayList<>();
        for (Path candidate : rescueCandidates(dir, model)) {
            try {
                Path saved = freeName(candidate);
                AtomicFiles.write(saved, out -> model.serialize().writeTo(out));
                return new RunOutputException(what + ": " + reason + ". The trained model was saved to " + saved
                        + " (use it with --model, or move it where you want it)", saved, cause);
            } catch (IOException | RuntimeException e) {
                tried.add(candidate + " (" + e.getMessage() + ")");
            }
        }
        return new RunOutputException(what + ": " + reason + ". Saving the trained model failed too: "
                + String.join("; ", tried), null, cause);
    }

    /** Where to save a model the output folder could not take: next to the folder, else in the temp folder. */
    private static List<Path> rescueCandidates(Path dir, Model<?> model) {
        List<Path> out = new ArrayList<>();
        if (dir != null) {
            Path abs = dir.toAbsolutePath().normalize();
            out.add(abs.resolveSibling(abs.getFileName() + ".unsaved-" + MODEL));
        }
        String safeName = model.getName().replaceAll("[^A-Za-z0-9._-]", "_");
        out.add(Paths.get(System.getProperty("java.io.tmpdir"), "tribuo-peft-unsaved-" + safeName + "-"
                + System.currentTimeMillis() + ".tribuo"));
        return out;
    }

    /** {@code file}, or {@code file} with -2, -3, ... before its extension, whichever does not exist yet. */
    private static Path freeName(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        Path candidate = file;
        for (int i = 2; Files.exists(candidate); i++) {
            candidate = file.resolveSibling(name.substring(0, dot) + "-" + i + name.substring(dot));
        }
        return candidate;
    }

    /** A model's provenance as pretty-printed OLCUT JSON. */
    public static String provenanceJson(Model<?> model) {
        return new JsonProvenanceSerialization(true).marshalAndSerialize(model.getProvenance());
    }
}
