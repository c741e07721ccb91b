package org.tribuopeft.spark.scoring;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.spark.broadcast.Broadcast;
import org.tribuo.Model;
import org.tribuo.protos.core.ModelProto;
import org.tribuopeft.plugin.AdapterModel;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Adapters serialized on the driver (Tribuo protobuf, as {@code model.tribuo} holds them) and broadcast once to
 * every executor; each executor deserializes an adapter the first time a row names it.
 */
final class BroadcastAdapterSource implements AdapterSource {
    private static final long serialVersionUID = 1L;

    private final Broadcast<Map<String, byte[]>> models;

    BroadcastAdapterSource(Broadcast<Map<String, byte[]>> models) {
        this.models = models;
    }

    @Override
    public String key() {
        return "broadcast:" + models.id();
    }

    @Override
    public String describe() {
        return "the broadcast adapters " + new TreeSet<>(models.value().keySet());
    }

    @Override
    public Optional<AdapterModel<?>> load(String id) throws IOException {
        byte[] bytes = models.value().get(id);
        if (bytes == null) {
            return Optional.empty();
        }
        try {
            return Optional.of((AdapterModel<?>) Model.deserialize(ModelProto.parseFrom(bytes)));
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("broadcast adapter '" + id + "' cannot be parsed: " + e.getMessage(), e);
        }
    }
}
