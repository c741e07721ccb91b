package org.tribuopeft.plugin.outputs;

import org.junit.jupiter.api.Test;
import org.tribuo.classification.Label;
import org.tribuo.multilabel.MultiLabel;
import org.tribuo.regression.Regressor;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A predicted output as one string: what the Spark scoring column's {@code output} field holds. */
class TaskOutputsTextTest {

    @Test
    void eachOutputKindReadsAsItsNamesOrValues() {
        assertEquals("pos", new LabelOutputs().text(new Label("pos", 0.9)));
        // Tribuo's own serializable form of a scored multi-label is "(pos,0.9)=true,(bright,0.7)=true"
        assertEquals("bright,pos", new MultiLabelOutputs().text(
                new MultiLabel(Set.of(new Label("pos", 0.9), new Label("bright", 0.7)))));
        assertEquals("", new MultiLabelOutputs().text(new MultiLabel(Set.of())));
        assertEquals("length=0.25,score=1.5", new RegressorOutputs().text(
                new Regressor(new String[] {"score", "length"}, new double[] {1.5, 0.25})));
    }
}
