package org.tribuopeft.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new user's first hour, automated: a separate Maven project holding only the README's dependency
 * lines resolves the library from a fresh local repository (our jars installed there, everything else
 * mirrored read-only from the build's own repository through {@code file://}), compiles the README's
 * QuickStart class unchanged with {@code javac -Xlint:all} and runs it on the real all-MiniLM-L6-v2.
 * The consumer's dependency tree converges and holds no logging binding; the library jars carry no
 * runnable-jar manifest and come with sources and Javadoc jars.
 */
class ReadmeQuickStartIT {
    private static final String GROUP_PATH = "org/tribuopeft/";
    private static final List<String> LIBRARY_MODULES = List.of("adapters", "provenance", "plugin");
    private static final Pattern LOGGING_BINDING = Pattern.compile(
            "slf4j-simple|logback-classic|log4j-slf4j2?-impl|slf4j-reload4j|slf4j-jdk14");

    private final Path root = Path.of(System.getProperty("tribuopeft.root", "..")).toAbsolutePath().normalize();
    private final String version = System.getProperty("tribuopeft.version");

    @Test
    void readmeDependencyLinesCompileAndRunTheQuickStartInASeparateProject(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(root.resolve("README.md"));
        String dependencies = fenced(between(readme, "<!-- dependencies:start -->", "<!-- dependencies:end -->"));
        assertTrue(dependencies.contains("<artifactId>tribuo-peft-plugin</artifactId>\n  <version>" + version
                + "</version>"), "the README's dependency lines must name tribuo-peft-plugin " + version + ":\n"
                + dependencies);
        String quickStart = fenced(readme.substring(readme.indexOf("<!-- snippet: QuickStart -->")));

        Path repo = tmp.resolve("repo");
        installLibrary(repo);
        Path project = Files.createDirectories(tmp.resolve("project"));
        Files.writeString(project.resolve("pom.xml"), consumerPom(dependencies));
        Files.writeString(project.resolve("settings.xml"), settings(repo));

        // dependencyManagement in our poms does not reach a consumer's version choice, so convergence is
        // checked here, in the consumer, with the same enforcer rule our own build runs
        String maven = run(project, 600, mavenCommand(), "-B", "-s", "settings.xml",
                "org.apache.maven.plugins:maven-enforcer-plugin:3.5.0:enforce", "-Drules=dependencyConvergence",
                "org.apache.maven.plugins:maven-dependency-plugin:3.7.1:tree", "-DoutputFile=tree.txt",
                "org.apache.maven.plugins:maven-dependency-plugin:3.7.1:build-classpath",
                "-Dmdep.outputFile=classpath.txt");
        String tree = Files.readString(project.resolve("tree.txt"));
        System.out.println(tree);
        assertFalse(LOGGING_BINDING.matcher(tree).find(), "the library brings a logging binding:\n" + tree);
        String classifier = nativeClassifier();
        if (classifier != null) {
            assertTrue(tree.contains("ai.djl.pytorch:pytorch-native-cpu:jar:" + classifier + ":"),
                    "no PyTorch native jar for " + classifier + " in the consumer's tree:\n" + tree + maven);
        }
        String classpath = Files.readString(project.resolve("classpath.txt")).trim();
        reportSize(classpath);

        Path source = Files.createDirectories(project.resolve("src")).resolve("QuickStart.java");
        Files.writeString(source, quickStart);
        Path classes = project.resolve("classes");
        String javac = run(project, 300, jdkTool("javac"), "-Xlint:all", "-cp", classpath, "-d",
                classes.toString(), source.toString());
        System.out.println("javac -Xlint:all: " + (javac.isBlank() ? "no warnings" : javac));
        assertFalse(javac.contains("bad path element"), "javac -Xlint:all warns about the classpath:\n" + javac);

        Path csv = Files.writeString(project.resolve("train.csv"), trainingCsv());
        Path saved = project.resolve("saved");
        String output = run(project, 300, jdkTool("java"), "-Xmx2g", "-cp",
                classes + java.io.File.pathSeparator + classpath, "QuickStart", csv.toString(), saved.toString());
        System.out.println(output);
        try (Stream<Path> files = Files.list(saved)) {
            assertTrue(files.findAny().isPresent(), "QuickStart saved nothing into " + saved + ":\n" + output);
        }
    }

    /** Our three library jars, their poms and the parent pom, laid out as `mvn install` would. */
    private void installLibrary(Path repo) throws IOException {
        install(root.resolve("pom.xml"), repo, "tribuo-peft-parent", "pom");
        for (String module : LIBRARY_MODULES) {
            String artifact = "tribuo-peft-" + module;
            Path target = root.resolve(module).resolve("target");
            Path jar = target.resolve(artifact + "-" + version + ".jar");
            assertTrue(Files.isRegularFile(jar), jar + " is missing: run `mvn -B verify` from " + root);
            for (String extra : List.of("sources", "javadoc")) {
                Path attached = target.resolve(artifact + "-" + version + "-" + extra + ".jar");
                assertTrue(Files.isRegularFile(attached), "the build made no " + attached.getFileName());
            }
            try (JarFile j = new JarFile(jar.toFile())) {
                Manifest m = j.getManifest();
                assertNull(m.getMainAttributes().getValue("Class-Path"), jar + " has a Class-Path manifest entry");
                assertNull(m.getMainAttributes().getValue("Main-Class"), jar + " has a Main-Class");
            }
            install(root.resolve(module).resolve("pom.xml"), repo, artifact, "pom");
            install(jar, repo, artifact, "jar");
        }
    }

    private void install(Path file, Path repo, String artifact, String extension) throws IOException {
        Path dir = Files.createDirectories(repo.resolve(GROUP_PATH + artifact + "/" + version));
        Files.copy(file, dir.resolve(artifact + "-" + version + "." + extension));
    }

    private String consumerPom(String dependencies) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>example</groupId>
                  <artifactId>first-hour</artifactId>
                  <version>1</version>
                  <properties>
                    <maven.compiler.release>17</maven.compiler.release>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                  </properties>
                  <dependencies>
                """ + dependencies + """
                  </dependencies>
                </project>
                """;
    }

    /** A fresh local repository; every other artifact comes from the build's repository, read through file://. */
    private static String settings(Path repo) {
        Path userRepo = Path.of(System.getProperty("user.m2.repository",
                System.getProperty("user.home") + "/.m2/repository"));
        return """
                <settings>
                  <localRepository>%s</localRepository>
                  <mirrors>
                    <mirror>
                      <id>build-repository</id>
                      <mirrorOf>*</mirrorOf>
                      <url>%s</url>
                    </mirror>
                  </mirrors>
                </settings>
                """.formatted(repo, userRepo.toUri());
    }

    private static String trainingCsv() {
        String[] positive = {"A wonderful film, I loved every minute.", "Brilliant acting and a moving story.",
            "One of the best movies this year.", "Delightful, funny and warm.", "A great cast in a great film.",
            "I would happily watch it again."};
        String[] negative = {"A dull film, I was bored throughout.", "Terrible acting and a silly plot.",
            "One of the worst movies this year.", "Tedious, long and cold.", "A waste of a good cast.",
            "I walked out before the end."};
        StringBuilder sb = new StringBuilder("text,label\n");
        for (int i = 0; i < positive.length; i++) {
            sb.append('"').append(positive[i]).append("\",positive\n");
            sb.append('"').append(negative[i]).append("\",negative\n");
        }
        return sb.toString();
    }

    private static void reportSize(String classpath) throws IOException {
        long bytes = 0;
        int jars = 0;
        for (String entry : classpath.split(java.io.File.pathSeparator)) {
            bytes += Files.size(Path.of(entry));
            jars++;
        }
        System.out.printf(Locale.ROOT, "consumer classpath: %d jars, %.1f MB%n", jars, bytes / 1e6);
    }

    /** The classifier our OS profiles should pick on this machine, or null where none is published. */
    private static String nativeClassifier() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
        if (os.contains("linux")) {
            return x64 ? "linux-x86_64" : arch.equals("aarch64") ? "linux-aarch64" : null;
        }
        if (os.contains("mac")) {
            return arch.equals("aarch64") ? "osx-aarch64" : null;
        }
        return os.contains("windows") && x64 ? "win-x86_64" : null;
    }

    private static String mavenCommand() {
        String home = System.getProperty("maven.home");
        boolean windows = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("windows");
        return home == null ? "mvn" : Path.of(home, "bin", windows ? "mvn.cmd" : "mvn").toString();
    }

    private static String jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name).toString();
    }

    /** Runs a command in dir, failing the test with its output when it fails or outlives the timeout. */
    private static String run(Path dir, int timeoutSeconds, String... command) throws Exception {
        Path log = Files.createTempFile(dir, "command", ".log");
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(done, String.join(" ", command) + " ran over " + timeoutSeconds + " s:\n" + output);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + output);
        return output;
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        int to = text.indexOf(end, from + 1);
        assertTrue(from >= 0 && to > from, "README.md has no section between " + start + " and " + end);
        return text.substring(from + start.length(), to);
    }

    /** The body of the first fenced code block in text. */
    private static String fenced(String text) {
        Matcher m = Pattern.compile("```[a-z]*\\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(), "no fenced code block in:\n" + text);
        return m.group(1);
    }
}
