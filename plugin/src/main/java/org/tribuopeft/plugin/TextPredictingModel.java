package org.tribuopeft.plugin;

import com.oracle.labs.mlrg.olcut.util.Pair;
import org.tribuo.Example;
import org.tribuo.Excuse;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Model;
import org.tribuo.Output;
import org.tribuo.Prediction;
import org.tribuo.provenance.ModelProvenance;
import org.tribuopeft.plugin.outputs.TaskOutputs;

import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What this library's Tribuo models share: they read text from example metadata and predict in
 * batches (a single prediction is a batch of one), have no per-feature weights or explanations, and
 * are saved with protobuf only.
 *
 * @param <T> the output type
 */
abstract class TextPredictingModel<T extends Output<T>> extends Model<T> {
    private static final long serialVersionUID = 1L;

    /** How the head's rows become predictions. */
    protected final transient TaskOutputs<T> outputs;

    protected TextPredictingModel(String name, ModelProvenance provenance, ImmutableFeatureMap features,
                                  ImmutableOutputInfo<T> info) {
        super(name, provenance, features, info, TaskOutputs.forDomain(info).generatesProbabilities());
        this.outputs = TaskOutputs.forDomain(info);
    }

    @Override
    public Prediction<T> predict(Example<T> example) {
        return innerPredict(List.of(example)).get(0);
    }

    /** No per-feature weights exist: the model reads text, not features. Always empty. */
    @Override
    public Map<String, List<Pair<String, Double>>> getTopFeatures(int n) {
        return Collections.emptyMap();
    }

    /** Explanations are not supported for transformer models; always empty. */
    @Override
    public Optional<Excuse<T>> getExcuse(Example<T> example) {
        return Optional.empty();
    }

    /** Java serialization would lose the native and tensor state; these models are saved with protobuf only. */
    private void writeObject(ObjectOutputStream out) throws IOException {
        throw new NotSerializableException(getClass().getName() + " is saved with protobuf: use serialize() or "
                + "serializeToFile(Path)");
    }
}
