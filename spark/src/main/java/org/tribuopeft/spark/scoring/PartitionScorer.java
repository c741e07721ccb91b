package org.tribuopeft.spark.scoring;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.tribuopeft.adapters.mixed.MixedBatchPredictor;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Scores one partition lazily, {@code batchSize} rows at a time: rows naming different adapters on one base go
 * through one mixed forward pass; each output row is its input row with the prediction struct appended.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final AdapterSource source;
    private final int textIndex;
    private final int adapterIndex;
    private final String textColumn;
    private final String adapterColumn;
    private final int batchSize;

    PartitionScorer(AdapterSource source, int textIndex, int adapterIndex, String textColumn, String adapterColumn,
                    int batchSize) {
        this.source = source;
        this.textIndex = textIndex;
        this.adapterIndex = adapterIndex;
        this.textColumn = textColumn;
        this.adapterColumn = adapterColumn;
        this.batchSize = batchSize;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        TaskContext task = TaskContext.get();
        int partition = task == null ? 0 : task.partitionId();
        return new Iterator<>() {
            private final List<Row> ready = new ArrayList<>();
            private int next;
            private long rowIndex;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) {
                    return true;
                }
                ready.clear();
                next = 0;
                List<Row> batch = new ArrayList<>(batchSize);
                while (batch.size() < batchSize && input.hasNext()) {
                    batch.add(input.next());
                }
                if (batch.isEmpty()) {
                    return false;
                }
                ready.addAll(score(batch, partition, rowIndex));
                rowIndex += batch.size();
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.get(next++);
            }
        };
    }

    private List<Row> score(List<Row> batch, int partition, long firstIndex) {
        List<ScoringAdapter> adapters = new ArrayList<>(batch.size());
        List<String> texts = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Row row = batch.get(i);
            String where = "row " + (firstIndex + i) + " of partition " + partition;
            Object id = row.get(adapterIndex);
            if (id == null) {
                throw new AdapterScoringException(where + " has no adapter id (null in column '" + adapterColumn
                        + "'); every row must name an adapter from " + source.describe());
            }
            ScoringAdapter adapter;
            try {
                adapter = ExecutorAdapters.adapter(source, id.toString()).orElseThrow(() -> new AdapterScoringException(
                        where + " names adapter '" + id + "' in column '" + adapterColumn + "', which is not in "
                                + source.describe()));
            } catch (IllegalArgumentException e) {
                throw new AdapterScoringException(where + " names adapter '" + id + "' in column '" + adapterColumn
                        + "', which is not an adapter id: " + e.getMessage(), e);
            }
            Object text = row.get(textIndex);
            if (text == null) {
                throw new AdapterScoringException(where + " has no text (null in column '" + textColumn + "')");
            }
            adapters.add(adapter);
            texts.add(text.toString());
        }
        // rows whose adapters share a base run as one mixed batch; a job rarely names more than one base
        Map<ExecutorAdapters.BaseSlot, List<Integer>> byBase = new IdentityHashMap<>();
        for (int i = 0; i < adapters.size(); i++) {
            byBase.computeIfAbsent(adapters.get(i).base(), b -> new ArrayList<>()).add(i);
        }
        ScoringAdapter.Scored[] scored = new ScoringAdapter.Scored[batch.size()];
        for (Map.Entry<ExecutorAdapters.BaseSlot, List<Integer>> e : byBase.entrySet()) {
            List<MixedBatchPredictor.Row> rows = new ArrayList<>(e.getValue().size());
            for (int i : e.getValue()) {
                rows.add(new MixedBatchPredictor.Row(adapters.get(i).model(), texts.get(i)));
            }
            float[][] heads = e.getKey().predict(rows);
            for (int k = 0; k < heads.length; k++) {
                int i = e.getValue().get(k);
                scored[i] = adapters.get(i).reader().read(heads[k]);
            }
        }
        List<Row> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Row row = batch.get(i);
            Object[] values = new Object[row.length() + 1];
            for (int c = 0; c < row.length(); c++) {
                values[c] = row.get(c);
            }
            values[row.length()] = RowFactory.create(scored[i].output(),
                    scala.jdk.javaapi.CollectionConverters.asScala(scored[i].scores()));
            out.add(RowFactory.create(values));
        }
        return out;
    }
}
