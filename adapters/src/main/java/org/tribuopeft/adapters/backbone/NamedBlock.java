package org.tribuopeft.adapters.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.BlockList;
import ai.djl.nn.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DJL block whose children and parameters carry Hugging Face module names
 * ({@code encoder.layer.0.attention.self.query.weight}), so that weights, adapters and files all
 * use one vocabulary. Children can be swapped in place, which is how an adapter wraps a frozen
 * Linear without rebuilding the encoder. Parameters are always given their values on creation, so
 * DJL's lazy shape inference is never used.
 */
public abstract class NamedBlock extends AbstractBlock {
    private final LinkedHashMap<String, Block> modules = new LinkedHashMap<>();

    /** Adds a child under a (possibly dotted) module name. */
    protected <B extends Block> B addModule(String name, B block) {
        if (modules.putIfAbsent(name, block) != null) {
            throw new IllegalStateException("module '" + name + "' is already registered");
        }
        return block;
    }

    /** Replaces an existing child, keeping its position; returns the old one. */
    protected Block replaceModule(String name, Block block) {
        if (!modules.containsKey(name)) {
            throw new IllegalArgumentException("no module named '" + name + "' in " + getClass().getSimpleName());
        }
        return modules.put(name, block);
    }

    /** The child registered under {@code name}. */
    protected Block module(String name) {
        Block b = modules.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no module named '" + name + "' in " + getClass().getSimpleName());
        }
        return b;
    }

    /** Creates a parameter holding {@code value} and registers it on this block. */
    protected Parameter addParameter(String name, Parameter.Type type, NDArray value) {
        Parameter p = Parameter.builder().setName(name).setType(type).build();
        p.setArray(value);
        return addParameter(p);
    }

    /** The direct children, by module name, in registration order. */
    public Map<String, Block> modules() {
        return java.util.Collections.unmodifiableMap(modules);
    }

    /**
     * Every parameter below this block under its full dotted name (for example
     * {@code encoder.layer.3.output.dense.weight}), in a stable order.
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        for (Parameter p : parameters.values()) {
            out.put(prefix + p.getName(), p);
        }
        for (Map.Entry<String, Block> e : modules.entrySet()) {
            if (e.getValue() instanceof NamedBlock nb) {
                nb.collectParameters(prefix + e.getKey() + ".", out);
            }
        }
    }

    @Override
    public BlockList getChildren() {
        BlockList list = new BlockList(modules.size());
        modules.forEach(list::add);
        return list;
    }

    /** Initialized when every parameter holds an array; input shapes play no part here. */
    @Override
    public boolean isInitialized() {
        for (Parameter p : getParameters().values()) {
            if (!p.isInitialized()) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        // every parameter is created with its value; nothing to infer
    }
}
