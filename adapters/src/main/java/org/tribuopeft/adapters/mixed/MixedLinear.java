package org.tribuopeft.adapters.mixed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.tribuopeft.adapters.backbone.DenseLinear;
import org.tribuopeft.adapters.backbone.LinearLayer;
import org.tribuopeft.adapters.backbone.NamedBlock;
import org.tribuopeft.adapters.method.AdapterLayer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The slot layer of a mixed-adapter encoder, the segmented matmul of S-LoRA and Punica: the frozen Linear runs
 * once over every row of the batch, then each segment's adapter adds its {@link AdapterLayer#update} computed on
 * that segment's rows only, and the segments are joined back in order.
 */
final class MixedLinear extends NamedBlock implements LinearLayer {
    private final DenseLinear base;
    private final String module;
    private final Supplier<List<RowSegment>> segments;

    MixedLinear(DenseLinear base, String module, Supplier<List<RowSegment>> segments) {
        this.base = addModule("base_layer", base);
        this.module = module;
        this.segments = segments;
    }

    @Override
    public DenseLinear base() {
        return base;
    }

    @Override
    public NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray y = base.apply(ps, x, training);
        List<RowSegment> segs = segments.get();
        if (segs == null || segs.stream().noneMatch(s -> s.layers().containsKey(module))) {
            return y;
        }
        if (segs.size() == 1) {
            // y is this call's own fresh output and no graph is recorded: add in place
            return y.addi(segs.get(0).layers().get(module).update(ps, x, y));
        }
        List<NDArray> parts = new ArrayList<>(segs.size());
        for (RowSegment s : segs) {
            NDIndex rows = new NDIndex(s.start() + ":" + s.end());
            NDArray ys = y.get(rows);
            AdapterLayer layer = s.layers().get(module);
            parts.add(layer == null ? ys : ys.add(layer.update(ps, x.get(rows), ys)));
        }
        return NDArrays.concat(new NDList(parts), 0);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return base.getOutputShapes(inputShapes);
    }
}
