package org.tribuopeft.plugin;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuopeft.adapters.backbone.Backbone;
import org.tribuopeft.adapters.backbone.BertConfig;
import org.tribuopeft.adapters.testing.TinyBert;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every Java class marked {@code <!-- snippet: Name -->} in README.md and docs/user-guide.md compiles as written,
 * imports included, against the test classpath, and its {@code main} runs on tiny data (the TinyBert backbone
 * where the snippet takes one), so the documentation cannot rot.
 */
class DocSnippetsTest {
    private static final Pattern SNIPPET = Pattern.compile("<!-- snippet: (\\w+) -->\\s*\\n```java\\n(.*?)```",
            Pattern.DOTALL);
    private static final Path ROOT = Path.of("..");

    /** The marked snippets of one Markdown file, by class name, in order. */
    static Map<String, String> snippets(Path markdown) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = SNIPPET.matcher(Files.readString(markdown));
        while (m.find()) {
            out.put(m.group(1), m.group(2));
        }
        return out;
    }

    @Test
    void everyMarkedSnippetCompilesAndRunsOnTinyData(@TempDir Path tmp) throws Exception {
        Map<String, String> all = new LinkedHashMap<>(snippets(ROOT.resolve("README.md")));
        all.putAll(snippets(ROOT.resolve("docs/user-guide.md")));
        assertEquals(List.of("QuickStart", "PredictText", "CrossValidate", "XmlConfig", "JsonConfig", "ReadProvenance"),
                new ArrayList<>(all.keySet()));
        Path sources = Files.createDirectories(tmp.resolve("src"));
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        List<Path> files = new ArrayList<>();
        for (Map.Entry<String, String> e : all.entrySet()) {
            assertTrue(e.getValue().contains("public class " + e.getKey() + " "), e.getKey() + " must declare its class");
            files.add(Files.writeString(sources.resolve(e.getKey() + ".java"), e.getValue()));
        }
        compile(files, classes);

        Path csv = CsvTexts.write(tmp.resolve("texts.csv"), 48, 3);
        Path out = tmp.resolve("out");
        String tiny = tinyWithDefaultLength(tmp.resolve("tiny-512")).toString();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                getClass().getClassLoader())) {
            assertTrue(run(loader, "QuickStart", csv.toString(), out.toString(), tiny).contains("reloaded "
                    + out.resolve("model.tribuo") + ": 12 predictions"));
            Path model = out.resolve("model.tribuo");
            String predicted = run(loader, "PredictText", model.toString(), "a good day");
            assertTrue(predicted.startsWith("pos ") || predicted.startsWith("neg "), predicted);
            assertTrue(run(loader, "ReadProvenance", model.toString()).contains("resolved {epochs="));
            assertEquals(3, run(loader, "CrossValidate", csv.toString(), tiny).lines()
                    .filter(l -> l.startsWith("fold accuracy")).count());
            String[] tinyOverrides = {"--@csv.dataPath", csv.toString(), "--@trainer.backbone", tiny,
                "--@trainer.progressSeconds", "0"};
            for (String[] config : List.of(new String[] {"XmlConfig", "csv-classification.xml"},
                    new String[] {"JsonConfig", "csv-classification.json"})) {
                List<String> args = new ArrayList<>(List.of("-c",
                        ROOT.resolve("docs/examples").resolve(config[1]).toString()));
                args.addAll(List.of(tinyOverrides));
                assertTrue(run(loader, config[0], args.toArray(String[]::new)).contains("Accuracy"), config[0]);
            }
        }
    }

    /** The tiny test model with 512 positions, so the snippets' default maxLength of 128 fits it. */
    private static Path tinyWithDefaultLength(Path folder) throws Exception {
        BertConfig c = TinyBert.config();
        BertConfig longer = new BertConfig(c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.intermediateSize(), 512, c.typeVocabSize(), c.layerNormEps(), c.hiddenAct(), c.hiddenDropout(),
                c.attentionDropout());
        Backbone.writeHfFolder(folder, TinyBert.weights(longer, 21), TinyBert.tokenizerJson());
        return folder;
    }

    private static void compile(List<Path> files, Path classes) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // path warnings are about the jars on the test classpath, not the snippets; the packaging test checks those
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean ok = javac.getTask(null, fm, diagnostics, List.of("-classpath", classpath, "-d", classes.toString(),
                    "-Xlint:all,-path", "-proc:none"), null, fm.getJavaFileObjectsFromPaths(files)).call();
            List<String> problems = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR || d.getKind() == Diagnostic.Kind.WARNING
                        || d.getKind() == Diagnostic.Kind.MANDATORY_WARNING) {
                    problems.add(d.toString());
                }
            }
            assertTrue(ok && problems.isEmpty(), String.join("\n", problems));
        }
    }

    /** Runs a snippet's main and returns what it printed. */
    private static String run(ClassLoader loader, String name, String... args) throws Exception {
        Method main = loader.loadClass(name).getMethod("main", String[].class);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.invoke(null, (Object) args);
        } finally {
            System.setOut(original);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        original.print(printed);
        return printed;
    }
}
