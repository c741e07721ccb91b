package org.tribuopeft.spark.training;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.backbone.BertWeights;
import org.tribuopeft.adapters.backbone.BundledModel;
import org.tribuopeft.adapters.data.ImdbReviews;
import org.tribuopeft.adapters.data.NpmCache;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real IMDB reviews as a DataFrame and the real MiniLM as a Hugging Face folder, for the training tests. */
final class SparkTrainingFixtures {
    private SparkTrainingFixtures() {}

    /** {@code n} real IMDB reviews (text, label) in {@code partitions} input partitions. */
    static Dataset<Row> imdb(SparkSession spark, int n, long seed, int partitions) throws Exception {
        List<Row> rows = new ArrayList<>();
        for (ImdbReviews.Review r : ImdbReviews.shuffled(NpmCache.fromEnvironment(), seed).subList(0, n)) {
            rows.add(RowFactory.create(r.text(), r.positive() ? "positive" : "negative"));
        }
        StructType schema = new StructType().add("text", DataTypes.StringType).add("label", DataTypes.StringType);
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    /**
     * all-MiniLM-L6-v2 with its hidden and attention dropout off, as a Hugging Face folder: dropout masks are drawn per
     * forward pass, so only without them does one forward pass over a whole global batch see the same network as the
     * replicas' passes over its shards.
     */
    static Path miniLmWithoutDropout(Path dir) throws Exception {
        Backbone base = Backbone.bundled(BundledModel.ALL_MINILM_L6_V2);
        BertConfig c = base.config();
        BertConfig off = new BertConfig(c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.intermediateSize(), c.maxPositions(), c.typeVocabSize(), c.layerNormEps(), c.hiddenAct(), 0, 0);
        Path folder = Files.createDirectories(dir.resolve("minilm-no-dropout"));
        Backbone.writeHfFolder(folder, new BertWeights(off, base.weights().tensors(), "MiniLM without dropout"),
                base.tokenizerJson());
        return folder;
    }
}
