package org.tribuopeft.spark.scoring;

import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.impl.ArrayExample;
import org.tribuopeft.adapters.train.TextModel;
import org.tribuopeft.plugin.AdapterModel;
import org.tribuopeft.plugin.outputs.TaskOutputs;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One adapter as an executor holds it: its model on the executor's shared base, and how its head's row becomes the
 * prediction its own {@code AdapterModel.predict} would give (through the same {@link TaskOutputs}).
 *
 * @param id the adapter id
 * @param model its model on the shared base
 * @param base the shared base it runs on
 * @param reader turns a head row into the predicted output and its scores
 */
record ScoringAdapter(String id, TextModel model, ExecutorAdapters.BaseSlot base, OutputReader<?> reader) {

    /** The predicted output, as Tribuo writes it, and the head's value per output name. */
    record Scored(String output, Map<String, Double> scores) {}

    /** Reads head rows of one output domain. */
    static final class OutputReader<T extends Output<T>> {
        private final TaskOutputs<T> outputs;
        private final ImmutableOutputInfo<T> info;
        private final List<String> names;

        private OutputReader(TaskOutputs<T> outputs, ImmutableOutputInfo<T> info, List<String> names) {
            this.outputs = outputs;
            this.info = info;
            this.names = names;
        }

        static <T extends Output<T>> OutputReader<T> of(AdapterModel<T> model) {
            return new OutputReader<>(TaskOutputs.forDomain(model.getOutputIDInfo()), model.getOutputIDInfo(),
                    List.copyOf(model.outputNames()));
        }

        Scored read(float[] row) {
            // the example only carries the prediction; its output is never read
            ArrayExample<T> example = new ArrayExample<>(info.getOutput(0));
            Prediction<T> p = outputs.prediction(row, info, example);
            Map<String, Double> scores = new LinkedHashMap<>();
            for (int i = 0; i < row.length; i++) {
                scores.put(names.get(i), (double) row[i]);
            }
            return new Scored(outputs.text(p.getOutput()), scores);
        }
    }
}
