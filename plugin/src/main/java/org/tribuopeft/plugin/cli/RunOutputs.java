package org.tribuopeft.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.evaluation.Evaluation;
import org.tribuopeft.adapters.io.AtomicFiles;
import org.tribuopeft.adapters.peft.PeftKeyStyle;
import org.tribuopeft.plugin.AdapterExports;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.EvaluationMetrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes what {@code train} produces into one folder, atomically (a failed run leaves an earlier folder
 * intact): {@code model.tribuo}, {@code adapter/}, {@code provenance.json} and {@code metrics.json}.
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

    private static final ObjectMapper JSON = new ObjectMapper();

    private RunOutputs() {}

    /**
     * Writes the folder.
     *
     * @param dir the output folder (replaced if it exists)
     * @param model the trained model
     * @param evaluation its evaluation on the held-out data
     * @param trainSeconds wall time of training
     */
    public static <T extends Output<T>> void write(Path dir, Model<T> model, Evaluation<T> evaluation,
                                                   double trainSeconds) throws IOException {
        String provenance = provenanceJson(model);
        ObjectNode metrics = JSON.createObjectNode();
        metrics.put("model", model.getName());
        Map<String, Double> m = EvaluationMetrics.of(evaluation);
        ObjectNode values = metrics.putObject("test");
        m.forEach(values::put);
        metrics.put("test_examples", evaluation.getPredictions().size());
        metrics.put("train_seconds", trainSeconds);
        String metricsJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(metrics);
        AtomicFiles.writeFolder(dir, tmp -> {
            try (var out = Files.newOutputStream(tmp.resolve(MODEL))) {
                model.serialize().writeTo(out);
            }
            if (model instanceof AdapterModel<T> am) {
                AdapterExports.write(am, tmp.resolve(ADAPTER), PeftKeyStyle.SEQUENCE_CLASSIFICATION);
            }
            Files.writeString(tmp.resolve(PROVENANCE), provenance);
            Files.writeString(tmp.resolve(METRICS), metricsJson);
        });
    }

    /** A model's provenance as pretty-printed OLCUT JSON. */
    public static String provenanceJson(Model<?> model) {
        return new JsonProvenanceSerialization(true).marshalAndSerialize(model.getProvenance());
    }
}
