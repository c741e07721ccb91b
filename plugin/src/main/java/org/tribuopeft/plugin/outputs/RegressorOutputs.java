package org.tribuopeft.plugin.outputs;

import org.tribuo.Example;
import org.tribuo.ImmutableOutputInfo;
import org.tribuo.Prediction;
import org.tribuo.regression.ImmutableRegressionInfo;
import org.tribuo.regression.Regressor;
import org.tribuopeft.adapters.train.TaskKind;

/** Regression with one head output per dimension (multi-dimensional regression included), trained with MSE. */
public final class RegressorOutputs implements TaskOutputs<Regressor> {
    @Override
    public TaskKind task() {
        return TaskKind.REGRESSION;
    }

    @Override
    public int width(ImmutableOutputInfo<Regressor> info) {
        return info.size();
    }

    @Override
    public float[] target(Regressor output, ImmutableOutputInfo<Regressor> info) {
        // ids are not necessarily the natural (name-sorted) order the Regressor stores its values in
        int[] natural = ((ImmutableRegressionInfo) info).getIDtoNaturalOrderMapping();
        double[] values = output.getValues();
        if (values.length != info.size()) {
            throw new IllegalArgumentException("regressor has " + values.length + " dimensions but the domain has "
                    + info.size());
        }
        float[] row = new float[info.size()];
        for (int id = 0; id < row.length; id++) {
            row[id] = (float) values[natural[id]];
        }
        return row;
    }

    @Override
    public Prediction<Regressor> prediction(float[] row, ImmutableOutputInfo<Regressor> info,
                                            Example<Regressor> example) {
        String[] names = new String[row.length];
        double[] values = new double[row.length];
        for (int id = 0; id < row.length; id++) {
            names[id] = info.getOutput(id).getNames()[0];
            values[id] = row[id];
        }
        return new Prediction<>(new Regressor(names, values), example.size(), example);
    }

    @Override
    public boolean generatesProbabilities() {
        return false;
    }
}
