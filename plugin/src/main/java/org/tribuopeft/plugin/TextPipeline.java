package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.Configurable;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import org.tribuo.ConfigurableDataSource;
import org.tribuo.DataSource;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Output;
import org.tribuo.Trainer;
import org.tribuo.evaluation.Evaluation;
import org.tribuo.evaluation.TrainTestSplitter;

/**
 * A whole experiment as one configuration component: where the training and test data come from (two
 * sources, or one source split by a seeded fraction), and the trainer. The evaluator follows the output
 * type (Tribuo's own for Label, Regressor and MultiLabel).
 *
 * @param <T> the output type
 */
public final class TextPipeline<T extends Output<T>> implements Configurable {

    @Config(mandatory = true, description = "The training data (or all data, when testSource is not set).")
    private ConfigurableDataSource<T> trainSource;

    @Config(description = "The held-out test data; when unset, trainSource is split by trainFraction.")
    private ConfigurableDataSource<T> testSource;

    @Config(description = "Fraction of trainSource used for training when testSource is unset.")
    private double trainFraction = 0.8;

    @Config(description = "Seed of the train/test split when testSource is unset.")
    private long splitSeed = 1L;

    @Config(mandatory = true, description = "The trainer, usually an AdapterTrainer.")
    private Trainer<T> trainer;

    /** For OLCUT. */
    private TextPipeline() { }

    /**
     * A pipeline over explicit train and test sources.
     *
     * @param trainSource training data
     * @param testSource test data
     * @param trainer the trainer
     */
    public TextPipeline(ConfigurableDataSource<T> trainSource, ConfigurableDataSource<T> testSource, Trainer<T> trainer) {
        this.trainSource = trainSource;
        this.testSource = testSource;
        this.trainer = trainer;
        postConfig();
    }

    @Override
    public void postConfig() {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new PropertyException("", "trainFraction", "trainFraction must be in (0, 1), found " + trainFraction);
        }
    }

    /** The trainer. */
    public Trainer<T> trainer() {
        return trainer;
    }

    /**
     * The training and test datasets, as this pipeline defines them, checked against each other before
     * anything trains: every text present, no blank label, no test label the training data lacks.
     *
     * @throws IllegalArgumentException naming the file and line (or example) at fault
     */
    public Datasets<T> datasets() {
        Datasets<T> data;
        CsvColumnsCheck.check("training data", trainSource);
        if (testSource != null) {
            CsvColumnsCheck.check("test data", testSource);
            data = new Datasets<>(new MutableDataset<>(trainSource), new MutableDataset<>(testSource));
        } else {
            TrainTestSplitter<T> split = new TrainTestSplitter<>(trainSource, trainFraction, splitSeed);
            data = new Datasets<>(new MutableDataset<>(split.getTrain()), new MutableDataset<>(split.getTest()));
        }
        TextDataCheck.check(data.train(), data.test(), textField(), testSource == null);
        return data;
    }

    /** The test dataset alone, with every text present and no blank label. */
    public MutableDataset<T> testData() {
        MutableDataset<T> test;
        CsvColumnsCheck.check("test data", testSource != null ? testSource : trainSource);
        if (testSource != null) {
            test = new MutableDataset<>(testSource);
        } else {
            DataSource<T> split = new TrainTestSplitter<>(trainSource, trainFraction, splitSeed).getTest();
            test = new MutableDataset<>(split);
        }
        TextDataCheck.checkExamples("test data", test, textField());
        return test;
    }

    /**
     * The test dataset for evaluating a trained model: {@link #testData()}, checked to name only outputs
     * the model has.
     *
     * @param model the model to be evaluated
     * @throws IllegalArgumentException naming the file and line (or example) of an output the model lacks
     */
    public MutableDataset<T> testDataFor(Model<T> model) {
        MutableDataset<T> test = testData();
        TextDataCheck.checkAgainstModel(test, model);
        return test;
    }

    /** The metadata key the trainer reads texts from. */
    private String textField() {
        return trainer instanceof AdapterTrainer<T> adapter ? adapter.textField() : "text";
    }

    /** Loads the data, trains, and evaluates on the test split. */
    public Result<T> run() {
        Datasets<T> data = datasets();
        long start = System.nanoTime();
        Model<T> model = trainer.train(data.train());
        double seconds = (System.nanoTime() - start) / 1e9;
        Evaluation<T> evaluation = data.train().getOutputFactory().getEvaluator().evaluate(model, data.test());
        return new Result<>(model, data, evaluation, seconds);
    }

    /**
     * The train and test datasets.
     *
     * @param train training data
     * @param test test data
     */
    public record Datasets<T extends Output<T>>(MutableDataset<T> train, MutableDataset<T> test) {}

    /**
     * What a run produced.
     *
     * @param model the trained model
     * @param data the datasets used
     * @param evaluation the evaluation on the test data
     * @param trainSeconds wall time of training
     */
    public record Result<T extends Output<T>>(Model<T> model, Datasets<T> data, Evaluation<T> evaluation,
                                              double trainSeconds) {}
}
