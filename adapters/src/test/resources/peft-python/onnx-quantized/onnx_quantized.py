"""Checks tribuo-peft's quantized ONNX exports (MatMulNBits) in Python's ONNX Runtime.

usage: python onnx_quantized.py JAVA_LOGITS.json FLOAT32.onnx QUANTIZED.onnx [QUANTIZED.onnx ...] RESULTS.json

JAVA_LOGITS.json comes from `java -cp app/target/tribuo-peft.jar org.tribuopeft.cli.OnnxLogitsDump` run on the
same files: the token ids of a few texts and the logits Java's ONNX Runtime gave for each file. For every
quantized file this script reports
  - python_vs_java: max |logits| difference between Python's and Java's ONNX Runtime on the same ids;
  - vs_dequantized: max |logits| difference from the float32 graph in which each MatMulNBits node is replaced by
    a MatMul with the weight dequantized here with numpy from the operator's specification (an independent
    reading of the packing: B [N, blocks, blob] with the even k in the low nibble, scales [N * blocks],
    zero points packed the same way or 2^(bits-1) when absent);
  - vs_float32: max |logits| difference from the float32 export;
  - ort_quantizer_vs_float32: the same for ONNX Runtime's own MatMulNBitsQuantizer applied to the float32
    export with the same bits, block size and symmetry (head excluded), and the size of its file.
"""
import json, os, sys, tempfile
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

java_json, float32_path, *quantized_paths, results_path = sys.argv[1:]
java = json.load(open(java_json))
feeds = {k: np.array(java[k], dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}


def run(model_or_path):
    data = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the dequantized graph keeps the unused packed initializers on purpose
    s = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return s.run(["logits"], feeds)[0]


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def unpack(packed, bits, count):
    """Codes along the last axis: bytes for 8 bits, two nibbles (low first) for 4 bits."""
    if bits == 8:
        return packed[..., :count].astype(np.int32)
    codes = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(*packed.shape[:-1], -1)
    return codes[..., :count].astype(np.int32)


def dequantized_graph(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inits = {t.name: t for t in m.graph.initializer}
    nodes = []
    for node in m.graph.node:
        if node.op_type != "MatMulNBits":
            nodes.append(node)
            continue
        a = attrs(node)
        k, n, bits, bs = a["K"], a["N"], a["bits"], a["block_size"]
        blocks = (k + bs - 1) // bs
        q = unpack(numpy_helper.to_array(inits[node.input[1]]), bits, bs)  # [N, blocks, bs]
        scales = numpy_helper.to_array(inits[node.input[2]]).reshape(n, blocks)
        if len(node.input) > 3 and node.input[3]:
            zp = unpack(numpy_helper.to_array(inits[node.input[3]]).reshape(n, -1), bits, blocks)
        else:
            zp = np.full((n, blocks), 2 ** (bits - 1), dtype=np.int32)
        w = ((q - zp[:, :, None]).astype(np.float32) * scales[:, :, None]).reshape(n, blocks * bs)[:, :k]
        name = node.input[1] + "_dequantized"
        m.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w.T), name))
        nodes.append(helper.make_node("MatMul", [node.input[0], name], list(node.output), name=node.name + "_f32"))
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return m


def ort_quantizer(original, bits, block, symmetric, accuracy_level):
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    float32 = onnx.ModelProto()
    float32.CopyFrom(original)  # the quantizer rewrites the model it is given
    head = [n.name for n in float32.graph.node if n.op_type == "MatMul" and "classifier.weight_t" in n.input]
    q = MatMulNBitsQuantizer(float32, bits=bits, block_size=block, is_symmetric=symmetric,
                             accuracy_level=accuracy_level or None, nodes_to_exclude=head)
    q.process()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ort.onnx")
        onnx.save_model(q.model.model, path)
        return run(path), os.path.getsize(path)


float32 = onnx.load(float32_path)
reference = run(float32_path)
report = {"onnxruntime_python": ort.__version__, "onnxruntime_java": java["onnxruntime_java"],
          "texts": len(feeds["input_ids"]), "float32_bytes": os.path.getsize(float32_path), "files": {}}
for path in quantized_paths:
    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    logits = run(path)
    nodes = [n for n in model.graph.node if n.op_type == "MatMulNBits"]
    a = attrs(nodes[0])
    symmetric = len(nodes[0].input) <= 3 or not nodes[0].input[3]
    try:
        ort_logits, ort_bytes = ort_quantizer(float32, a["bits"], a["block_size"], symmetric, a.get("accuracy_level"))
        ort_diff = float(np.abs(ort_logits - reference).max())
    except Exception as e:  # the quantizer's options differ between ONNX Runtime versions
        ort_diff, ort_bytes = "failed: " + repr(e), None
    report["files"][os.path.basename(path)] = {
        "weight_format": meta.get("tribuo_peft.weight_format"),
        "matmulnbits_nodes": len(nodes),
        "bytes": os.path.getsize(path),
        "python_vs_java": float(np.abs(logits - np.array(java["logits"][os.path.basename(path)])).max()),
        "vs_dequantized": float(np.abs(logits - run(dequantized_graph(model))).max()),
        "vs_float32": float(np.abs(logits - reference).max()),
        "ort_quantizer_vs_float32": ort_diff,
        "ort_quantizer_bytes": ort_bytes,
    }
report["float32_python_vs_java"] = float(np.abs(reference - np.array(java["logits"][os.path.basename(float32_path)])).max())
json.dump(report, open(results_path, "w"), indent=2)
print(json.dumps(report, indent=2))
