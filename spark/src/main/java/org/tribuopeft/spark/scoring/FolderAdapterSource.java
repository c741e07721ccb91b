package org.tribuopeft.spark.scoring;

import org.tribuopeft.plugin.AdapterDirectory;
import org.tribuopeft.plugin.AdapterModel;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.List;
import java.util.Optional;

/**
 * Adapters read by each executor from folders every executor can see (a shared file system), in the layouts of
 * {@link AdapterDirectory}: {@code ID.tribuo}, {@code ID/model.tribuo}, or a PEFT folder {@code ID/}.
 */
final class FolderAdapterSource implements AdapterSource {
    private static final long serialVersionUID = 1L;

    private final List<String> folders;
    private final String peftBase;
    private transient AdapterDirectory directory;

    FolderAdapterSource(List<String> folders, String peftBase) {
        this.folders = List.copyOf(folders);
        this.peftBase = peftBase;
    }

    @Override
    public String key() {
        return "folders:" + folders + ";peftBase:" + peftBase;
    }

    @Override
    public String describe() {
        return "the adapter folders " + folders;
    }

    @Override
    public Optional<AdapterModel<?>> load(String id) throws IOException {
        Optional<AdapterDirectory.Entry> entry = directory().resolve(id);
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(AdapterDirectory.load(entry.get(), peftBase));
    }

    private synchronized AdapterDirectory directory() {
        if (directory == null) {
            directory = new AdapterDirectory(folders.stream().map(Paths::get).toList());
        }
        return directory;
    }

    /** Checks on the driver that the folders exist, so a typo fails before any task runs. */
    void check() {
        directory();
    }
}
