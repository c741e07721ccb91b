package org.tribuopeft.cli;

import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.evaluation.Evaluation;
import org.tribuopeft.adapters.train.EpochResult;
import org.tribuopeft.adapters.train.TrainingReport;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.EvaluationMetrics;
import org.tribuopeft.provenance.replay.ProvenanceFlattener;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The {@code report.html} of a {@code train --output} folder: one self-contained page (inline CSS, charts as inline
 * PNG, no network) with the loss curve, the evaluation (metrics and, for labels, the confusion matrix), a provenance
 * summary and the training time. Everything taken from the model, the data or the provenance is HTML-escaped.
 */
final class RunReport {
    private static final String CSS = """
            body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1000px;color:#222;\
            padding:0 1em}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
            table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;\
            text-align:left}th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}\
            td.diag{background:#d6eaf8;font-weight:bold}code{background:#f6f6f6;padding:0 .2em}\
            .note{color:#666}img{max-width:100%}details{margin-top:1em}""";

    /** Groups of the provenance summary: title and which flattened provenance paths belong to it. */
    private static final Map<String, Predicate<String>> SUMMARY = new LinkedHashMap<>();

    static {
        SUMMARY.put("Base model", k -> k.contains("base-model.") || k.contains("tokenizer."));
        SUMMARY.put("Method", k -> k.startsWith("trainer.method."));
        SUMMARY.put("Data", k -> k.startsWith("dataset."));
        SUMMARY.put("Seeds", k -> k.toLowerCase(Locale.ROOT).contains("seed") && !k.startsWith("dataset."));
        SUMMARY.put("Engine", k -> k.contains("engine."));
    }

    private RunReport() {}

    /**
     * The page.
     *
     * @param model the trained model
     * @param evaluation its evaluation on the held-out data
     * @param trainSeconds wall time of training
     */
    static <T extends Output<T>> String html(Model<T> model, Evaluation<T> evaluation, double trainSeconds)
            throws IOException {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(esc("tribuo-peft run: " + model.getName())).append("</title><style>").append(CSS)
                .append("</style></head><body>\n");
        h.append("<h1>").append(esc("tribuo-peft run: " + model.getName())).append("</h1>\n");
        h.append("<p>Trained ").append(esc(model.getProvenance().getTrainingTime().toString())).append(" in ")
                .append(String.format(Locale.ROOT, "%.1f s", trainSeconds)).append("; evaluated on ")
                .append(evaluation.getPredictions().size()).append(" held-out examples.</p>\n");
        Map<String, Double> metrics = EvaluationMetrics.of(evaluation);
        h.append("<h2>Evaluation</h2>\n<table><tr><th>metric</th><th>value</th></tr>\n");
        metrics.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td class=\"num\">")
                .append(String.format(Locale.ROOT, "%.4f", v)).append("</td></tr>\n"));
        h.append("</table>\n");
        if (evaluation instanceof LabelEvaluation le) {
            confusion(h, le);
        }
        h.append("<h2>Training</h2>\n");
        TrainingReport report = model instanceof AdapterModel<T> am ? am.trainingReport().orElse(null) : null;
        if (report != null) {
            training(h, report);
        } else {
            h.append("<p class=\"note\">No per-step record: this model was not trained by tribuo-peft in this "
                    + "process.</p>\n");
        }
        provenance(h, ProvenanceFlattener.flatten(model.getProvenance()));
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void confusion(StringBuilder h, LabelEvaluation e) {
        var cm = e.getConfusionMatrix();
        List<Label> labels = new ArrayList<>(cm.getDomain().getDomain());
        h.append("<h3>Confusion matrix</h3>\n<table><tr><th>true \\ predicted</th>");
        labels.forEach(l -> h.append("<th>").append(esc(l.getLabel())).append("</th>"));
        h.append("</tr>\n");
        for (Label truth : labels) {
            h.append("<tr><th>").append(esc(truth.getLabel())).append("</th>");
            for (Label predicted : labels) {
                h.append("<td class=\"num").append(truth.equals(predicted) ? " diag" : "").append("\">")
                        .append(String.format(Locale.ROOT, "%.0f", cm.confusion(predicted, truth))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void training(StringBuilder h, TrainingReport r) throws IOException {
        h.append(String.format(Locale.ROOT, "<p>%d optimizer steps of %d planned, %d epochs; median step %.3f s, "
                + "mean %.3f s%s.</p>%n", r.stepsRun(), r.plannedSteps(), r.epochs().size(), r.medianStepSeconds(),
                r.meanStepSeconds(), r.stoppedEarly() ? "; stopped early, weights of epoch " + r.bestEpoch() : ""));
        List<Double> losses = r.stepLosses();
        if (!losses.isEmpty()) {
            int smoothing = Math.max(1, losses.size() / 40);
            byte[] png = Charts.lossCurves("Training loss", Map.of("loss", losses), smoothing, false, 900, 420);
            h.append("<img alt=\"training loss per step\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
        }
        h.append("<table><tr><th>epoch</th><th>steps</th><th>mean training loss</th><th>validation loss</th>"
                + "<th>validation metric</th><th>seconds</th></tr>\n");
        for (EpochResult e : r.epochs()) {
            h.append(String.format(Locale.ROOT, "<tr><td class=\"num\">%d</td><td class=\"num\">%d</td>"
                    + "<td class=\"num\">%.4f</td><td class=\"num\">%s</td><td>%s</td><td class=\"num\">%.1f</td></tr>%n",
                    e.epoch(), e.steps(), e.trainLoss(), num(e.validationLoss()),
                    esc(e.validationMetricName()) + " " + num(e.validationMetric()), e.seconds()));
        }
        h.append("</table>\n");
    }

    private static void provenance(StringBuilder h, Map<String, String> flat) {
        h.append("<h2>Provenance</h2>\n<table>\n");
        SUMMARY.forEach((title, belongs) -> {
            List<Map.Entry<String, String>> rows = flat.entrySet().stream().filter(e -> belongs.test(e.getKey()))
                    .toList();
            if (rows.isEmpty()) {
                return;
            }
            h.append("<tr><th colspan=\"2\">").append(esc(title)).append("</th></tr>\n");
            rows.forEach(e -> h.append("<tr><td><code>").append(esc(e.getKey())).append("</code></td><td>")
                    .append(esc(e.getValue())).append("</td></tr>\n"));
        });
        h.append("</table>\n<details><summary>Full provenance (").append(flat.size())
                .append(" fields; <code>provenance.json</code> holds it as OLCUT JSON)</summary>\n<table>\n");
        flat.forEach((k, v) -> h.append("<tr><td><code>").append(esc(k)).append("</code></td><td>").append(esc(v))
                .append("</td></tr>\n"));
        h.append("</table></details>\n");
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** The text with the five HTML-significant characters escaped, safe in element content and quoted attributes. */
    static String esc(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
