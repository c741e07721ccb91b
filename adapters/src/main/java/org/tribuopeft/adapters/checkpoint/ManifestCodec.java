package org.tribuopeft.adapters.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.tribuopeft.adapters.tensor.HostTensor;
import org.tribuopeft.adapters.train.EpochResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts a {@link TrainingState} to the manifest JSON and a flat map of named tensors, and back.
 * Doubles are stored as their IEEE bit patterns so that a resumed run's losses and metrics are the
 * uninterrupted run's bit for bit (and NaN needs no special JSON).
 */
final class ManifestCodec {
    static final String FORMAT = "tribuo-peft-checkpoint";
    static final int VERSION = 1;
    static final ObjectMapper JSON = new ObjectMapper();

    private static final String PARAM = "param/";
    private static final String FIRST = "adam.m/";
    private static final String SECOND = "adam.v/";
    private static final String HOOK = "hook/";
    private static final String BEST = "best/";

    private ManifestCodec() {}

    /** Every tensor of the state under a prefix saying what it is. */
    static Map<String, HostTensor> tensors(TrainingState s) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        s.parameters().forEach((k, v) -> out.put(PARAM + k, v));
        s.firstMoments().forEach((k, v) -> out.put(FIRST + k, v));
        s.secondMoments().forEach((k, v) -> out.put(SECOND + k, v));
        s.hookState().forEach((k, v) -> out.put(HOOK + k, v));
        s.bestParameters().forEach((k, v) -> out.put(BEST + k, v));
        return out;
    }

    /** The manifest's {@code state} object: every scalar, the order, masks, fingerprint. */
    static ObjectNode encode(TrainingState s, String tensorsSha256) {
        ObjectNode n = JSON.createObjectNode();
        n.put("globalStep", s.globalStep());
        n.put("epoch", s.epoch());
        n.put("nextBatch", s.nextBatch());
        n.put("epochLossSumBits", bits(s.epochLossSum()));
        ArrayNode order = n.putArray("order");
        for (int i : s.order()) {
            order.add(i);
        }
        n.put("stoppedEarly", s.stoppedEarly());
        ArrayNode epochs = n.putArray("epochs");
        for (EpochResult r : s.epochs()) {
            ObjectNode e = epochs.addObject();
            e.put("epoch", r.epoch());
            e.put("steps", r.steps());
            e.put("trainLossBits", bits(r.trainLoss()));
            e.put("validationLossBits", bits(r.validationLoss()));
            e.put("validationMetricName", r.validationMetricName());
            e.put("validationMetricBits", bits(r.validationMetric()));
            e.put("secondsBits", bits(r.seconds()));
        }
        n.put("bestMetricBits", bits(s.bestMetric()));
        n.put("bestEpoch", s.bestEpoch());
        n.put("epochsWithoutImprovement", s.epochsWithoutImprovement());
        n.put("optimizerSteps", s.optimizerSteps());
        ObjectNode fp = n.putObject("fingerprint");
        new java.util.TreeMap<>(s.fingerprint()).forEach(fp::put);
        putMasks(n.putObject("rankMasks"), s.rankMasks());
        putMasks(n.putObject("bestRankMasks"), s.bestRankMasks());
        n.put("tensorsFile", CheckpointFolder.TENSORS);
        n.put("tensorsSha256", tensorsSha256);
        return n;
    }

    /** Rebuilds the state from the manifest's {@code state} object and the tensors file's content. */
    static TrainingState decode(JsonNode n, Map<String, HostTensor> tensors) {
        List<EpochResult> epochs = new ArrayList<>();
        for (JsonNode e : array(n, "epochs")) {
            epochs.add(new EpochResult(integer(e, "epoch"), integer(e, "steps"), real(e, "trainLossBits"),
                    real(e, "validationLossBits"), text(e, "validationMetricName"), real(e, "validationMetricBits"),
                    real(e, "secondsBits")));
        }
        JsonNode orderNode = array(n, "order");
        int[] order = new int[orderNode.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = orderNode.get(i).asInt();
        }
        Map<String, String> fingerprint = new LinkedHashMap<>();
        field(n, "fingerprint").fields().forEachRemaining(e -> fingerprint.put(e.getKey(), e.getValue().asText()));
        Map<String, HostTensor> params = new LinkedHashMap<>();
        Map<String, HostTensor> first = new LinkedHashMap<>();
        Map<String, HostTensor> second = new LinkedHashMap<>();
        Map<String, HostTensor> hook = new LinkedHashMap<>();
        Map<String, HostTensor> best = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            Map<String, HostTensor> target = k.startsWith(PARAM) ? params : k.startsWith(FIRST) ? first
                    : k.startsWith(SECOND) ? second : k.startsWith(HOOK) ? hook : k.startsWith(BEST) ? best : null;
            if (target == null) {
                throw new IllegalArgumentException("unexpected tensor '" + k + "'");
            }
            target.put(k.substring(k.indexOf('/') + 1), v);
        });
        return new TrainingState(integer(n, "globalStep"), integer(n, "epoch"), integer(n, "nextBatch"),
                real(n, "epochLossSumBits"), order, field(n, "stoppedEarly").asBoolean(), epochs,
                real(n, "bestMetricBits"), integer(n, "bestEpoch"), integer(n, "epochsWithoutImprovement"), fingerprint,
                params, masks(field(n, "rankMasks")), first, second, integer(n, "optimizerSteps"), hook, best,
                masks(field(n, "bestRankMasks")));
    }

    private static long bits(double d) {
        return Double.doubleToRawLongBits(d);
    }

    private static void putMasks(ObjectNode target, Map<String, boolean[]> masks) {
        masks.forEach((k, v) -> {
            ArrayNode a = target.putArray(k);
            for (boolean b : v) {
                a.add(b);
            }
        });
    }

    private static Map<String, boolean[]> masks(JsonNode n) {
        Map<String, boolean[]> out = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> {
            boolean[] m = new boolean[e.getValue().size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = e.getValue().get(i).asBoolean();
            }
            out.put(e.getKey(), m);
        });
        return out;
    }

    static JsonNode field(JsonNode n, String name) {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("the manifest lacks '" + name + "'");
        }
        return v;
    }

    private static JsonNode array(JsonNode n, String name) {
        JsonNode v = field(n, name);
        if (!v.isArray()) {
            throw new IllegalArgumentException("'" + name + "' is not a list");
        }
        return v;
    }

    private static int integer(JsonNode n, String name) {
        JsonNode v = field(n, name);
        if (!v.canConvertToInt()) {
            throw new IllegalArgumentException("'" + name + "' is not an integer: " + v);
        }
        return v.asInt();
    }

    private static double real(JsonNode n, String name) {
        JsonNode v = field(n, name);
        if (!v.canConvertToLong()) {
            throw new IllegalArgumentException("'" + name + "' is not a 64-bit pattern: " + v);
        }
        return Double.longBitsToDouble(v.asLong());
    }

    private static String text(JsonNode n, String name) {
        return field(n, name).asText();
    }
}
