package org.tribuopeft.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.tribuopeft.adapters.train.TaskKind;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** The JSON of the server's API: reading request bodies within their limits, and writing predictions and adapters. */
final class ApiJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A validated prediction request.
     *
     * @param adapter the adapter id
     * @param texts the texts, at least one
     */
    record PredictRequest(String adapter, List<String> texts) {}

    private ApiJson() {}

    /**
     * Reads a request body that must be a JSON object of at most {@code maxBytes} bytes.
     *
     * @throws HttpStatusException 413 over the limit, 400 for anything that is not a JSON object
     */
    static JsonNode readObject(Request request, int maxBytes) {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > maxBytes) {
            throw new HttpStatusException(413, "request body of " + declared + " bytes; the limit is " + maxBytes
                    + " (--max-request-bytes)");
        }
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(request)) {
            bytes = in.readNBytes(maxBytes + 1);
        } catch (IOException e) {
            throw new HttpStatusException(400, "could not read the request body: " + e.getMessage());
        }
        if (bytes.length > maxBytes) {
            throw new HttpStatusException(413, "request body over " + maxBytes + " bytes (--max-request-bytes)");
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new HttpStatusException(400, "the body must be a JSON object {\"adapter\": ..., \"texts\": [...]}");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new HttpStatusException(400, "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new HttpStatusException(400, "could not read the request body: " + e.getMessage());
        }
    }

    /**
     * Checks a prediction body: {@code adapter} a string, {@code texts} a non-empty array of at most
     * {@code maxTexts} strings.
     *
     * @throws HttpStatusException 400 naming the field at fault, 413 for too many texts
     */
    static PredictRequest predictRequest(JsonNode body, int maxTexts) {
        JsonNode idNode = body.get("adapter");
        JsonNode textsNode = body.get("texts");
        if (idNode == null || !idNode.isTextual()) {
            throw new HttpStatusException(400, "the body needs \"adapter\": a string naming the adapter");
        }
        if (textsNode == null || !textsNode.isArray() || textsNode.isEmpty()) {
            throw new HttpStatusException(400, "the body needs \"texts\": a non-empty array of strings");
        }
        if (textsNode.size() > maxTexts) {
            throw new HttpStatusException(413, textsNode.size() + " texts in one request; the limit is " + maxTexts
                    + " (--max-texts): split the request");
        }
        List<String> texts = new ArrayList<>(textsNode.size());
        for (int i = 0; i < textsNode.size(); i++) {
            if (!textsNode.get(i).isTextual()) {
                throw new HttpStatusException(400, "texts[" + i + "] is " + textsNode.get(i).getNodeType()
                        + ", not a string");
            }
            texts.add(textsNode.get(i).asText());
        }
        return new PredictRequest(idNode.asText(), texts);
    }

    /**
     * One prediction per row: single-label {@code label} and {@code scores}, multi-label {@code labels} above 0.5
     * and {@code scores}, regression {@code values}, each keyed by output name.
     */
    static ObjectNode predictions(LoadedAdapter a, float[][] rows) {
        ObjectNode n = JSON.createObjectNode();
        n.put("adapter", a.id());
        n.put("method", a.method());
        ArrayNode preds = n.putArray("predictions");
        for (float[] row : rows) {
            ObjectNode p = preds.addObject();
            ObjectNode scores = JSON.createObjectNode();
            ArrayNode labels = JSON.createArrayNode();
            int best = 0;
            for (int i = 0; i < row.length; i++) {
                scores.put(a.outputNames().get(i), row[i]);
                best = row[i] > row[best] ? i : best;
                if (row[i] > 0.5f) {
                    labels.add(a.outputNames().get(i));
                }
            }
            switch (a.task()) {
                case SINGLE_LABEL -> p.put("label", a.outputNames().get(best));
                case MULTI_LABEL -> p.set("labels", labels);
                case REGRESSION -> { }
            }
            p.set(a.task() == TaskKind.REGRESSION ? "values" : "scores", scores);
        }
        return n;
    }

    /** A resident adapter: id, method, task, bytes, pinned and output names. */
    static ObjectNode describe(LoadedAdapter a, boolean pinned) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", a.id());
        o.put("method", a.method());
        o.put("task", a.task().name());
        o.put("bytes", a.bytes());
        o.put("pinned", pinned);
        ArrayNode outs = o.putArray("outputs");
        a.outputNames().forEach(outs::add);
        return o;
    }
}
