package org.tribuopeft.plugin;

import org.tribuopeft.adapters.io.ModelFileException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The configured adapter folders and the only way an adapter id becomes a file: an id is a plain name
 * ({@code [A-Za-z0-9][A-Za-z0-9._-]*}, no {@code ..}) looked up as {@code DIR/ID.tribuo}, {@code DIR/ID/model.tribuo}
 * (what {@code tribuo-peft train --output} writes) or {@code DIR/ID/} holding {@code adapter_config.json} (a PEFT
 * folder), in the order the folders were given. The resolved real path must lie inside its folder, so neither a
 * path such as {@code ../../etc/passwd} nor a symbolic link out of the folder can name a file.
 * Shared by the adapter server and Spark scoring, so both read the same layouts the same way.
 */
public final class AdapterDirectory {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** Which loader reads an adapter. */
    public enum Kind {
        /** A saved {@code AdapterModel} ({@code model.tribuo}). */
        TRIBUO,
        /** A PEFT folder ({@code adapter_config.json} + {@code adapter_model.safetensors}). */
        PEFT
    }

    /**
     * Where one adapter lives.
     *
     * @param id the adapter id
     * @param kind its format
     * @param path the model file or PEFT folder
     */
    public record Entry(String id, Kind kind, Path path) {}

    private final List<Path> roots;

    /**
     * The folders to read adapters from.
     *
     * @throws IllegalArgumentException naming a folder that does not exist
     */
    public AdapterDirectory(List<Path> folders) {
        if (folders.isEmpty()) {
            throw new IllegalArgumentException("no adapter folder given");
        }
        List<Path> r = new ArrayList<>();
        for (Path f : folders) {
            if (!Files.isDirectory(f)) {
                throw new IllegalArgumentException("adapter folder '" + f + "' does not exist or is not a folder");
            }
            try {
                r.add(f.toRealPath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        this.roots = List.copyOf(r);
    }

    /** The folders, as real paths. */
    public List<Path> roots() {
        return roots;
    }

    /** True when {@code id} is a well-formed adapter id. */
    public static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches() && !id.contains("..");
    }

    /**
     * Refuses an id that is not a plain name.
     *
     * @throws IllegalArgumentException naming the id and the rule
     */
    public static void requireValidId(String id) {
        if (!isValidId(id)) {
            throw new IllegalArgumentException("adapter id '" + abbreviate(id) + "' is not a plain name "
                    + "([A-Za-z0-9][A-Za-z0-9._-]*, no '..'); ids name entries inside the configured adapter folders only");
        }
    }

    /**
     * Finds an adapter.
     *
     * @throws IllegalArgumentException for an id that is not a plain name
     */
    public Optional<Entry> resolve(String id) {
        requireValidId(id);
        for (Path root : roots) {
            Optional<Entry> e = inside(root, root.resolve(id + ".tribuo"), Kind.TRIBUO, id)
                    .or(() -> inside(root, root.resolve(id).resolve("model.tribuo"), Kind.TRIBUO, id))
                    .or(() -> Files.isRegularFile(root.resolve(id).resolve("adapter_config.json"))
                            ? inside(root, root.resolve(id), Kind.PEFT, id) : Optional.empty());
            if (e.isPresent()) {
                return e;
            }
        }
        return Optional.empty();
    }

    private static Optional<Entry> inside(Path root, Path candidate, Kind kind, String id) {
        if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS) && !Files.exists(candidate)) {
            return Optional.empty();
        }
        if (kind == Kind.TRIBUO && !Files.isRegularFile(candidate)) {
            return Optional.empty();
        }
        try {
            Path real = candidate.toRealPath();
            return real.startsWith(root) ? Optional.of(new Entry(id, kind, real)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Every adapter the folders hold, by id (the first folder wins a name that is in two). */
    public List<Entry> list() {
        TreeMap<String, Entry> out = new TreeMap<>();
        for (Path root : roots) {
            try (Stream<Path> s = Files.list(root)) {
                s.forEach(p -> {
                    String name = p.getFileName().toString();
                    String id = name.endsWith(".tribuo") ? name.substring(0, name.length() - ".tribuo".length()) : name;
                    if (isValidId(id) && !out.containsKey(id)) {
                        resolve(id).ifPresent(e -> out.put(id, e));
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return List.copyOf(out.values());
    }

    /**
     * Reads the adapter an entry names: a {@code model.tribuo} as saved, a PEFT folder on {@code peftBase}.
     *
     * @param peftBase the base a PEFT folder is loaded on (a bundled name, folder or .onnx file); unused for
     *     {@code model.tribuo} entries, and may be null when the folders hold none of PEFT's kind
     * @throws ModelFileException naming the file and what is wrong with it
     * @throws IOException when a PEFT folder cannot be read
     * @throws IllegalArgumentException for a PEFT folder when no base is given
     */
    public static AdapterModel<?> load(Entry entry, String peftBase) throws IOException {
        if (entry.kind() == Kind.TRIBUO) {
            return AdapterModels.loadAdapterModel(entry.path());
        }
        if (peftBase == null || peftBase.isBlank()) {
            throw new IllegalArgumentException("adapter '" + entry.id() + "' is a PEFT folder (" + entry.path()
                    + "), which does not say which base it belongs on; give the base model to load PEFT folders on");
        }
        return PeftImport.load(entry.path(), peftBase);
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
