package com.shrivenquant.cluster.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

/**
 * An image tarball in docker-save format (what {@code jib:buildTar} writes and what Jib reads as
 * {@code tar://}): manifest.json, the config JSON and the layer blobs, with every layer's entries
 * and its actual digest, read without any container tool.
 */
final class ImageTarball {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One file, directory or link of a layer, path without a leading "/" or "./". */
  record Entry(String path, char type, String linkTarget, int uid, int gid, int mode, long size) {
    boolean isFile() {
      return type == TarArchiveEntry.LF_NORMAL || type == TarArchiveEntry.LF_OLDNORM;
    }

    boolean isSymlink() {
      return type == TarArchiveEntry.LF_SYMLINK;
    }
  }

  /**
   * A layer: its blob's name in the tarball, the diff id the config claims, the sha256 of its
   * uncompressed content as read, its entries and, for small text files asked for, their content.
   */
  record Layer(
      String blob,
      String claimedDiffId,
      String actualDiffId,
      Map<String, Entry> entries,
      Map<String, String> texts) {}

  private final Path file;
  private final JsonNode config;
  private final List<Layer> layers;

  private ImageTarball(Path file, JsonNode config, List<Layer> layers) {
    this.file = file;
    this.config = config;
    this.layers = List.copyOf(layers);
  }

  /** Reads the tarball; the content of files named in {@code textPaths} is kept as text. */
  static ImageTarball open(Path tarball, List<String> textPaths) throws IOException {
    Map<String, byte[]> top = new LinkedHashMap<>();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tarball)))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        if (e.isFile() && !e.getName().endsWith(".tar.gz") && !e.getName().endsWith(".tar"))
          top.put(normalize(e.getName()), tar.readAllBytes());
      }
    }
    JsonNode manifest = JSON.readTree(required(top, "manifest.json", tarball));
    JsonNode image = manifest.get(0);
    JsonNode config = JSON.readTree(required(top, image.get("Config").asText(), tarball));
    JsonNode diffIds = config.path("rootfs").path("diff_ids");
    List<Layer> layers = new ArrayList<>();
    for (int i = 0; i < image.get("Layers").size(); i++) {
      String blob = image.get("Layers").get(i).asText();
      layers.add(readLayer(tarball, blob, diffIds.path(i).asText(null), textPaths));
    }
    return new ImageTarball(tarball, config, layers);
  }

  Path file() {
    return file;
  }

  /** The image config: its "config" object holds Entrypoint, User, ExposedPorts, Env, Labels. */
  JsonNode config() {
    return config;
  }

  List<Layer> layers() {
    return layers;
  }

  /** The entry at {@code path} in the topmost layer that has it. */
  Optional<Entry> entry(String path) {
    for (int i = layers.size() - 1; i >= 0; i--) {
      Entry e = layers.get(i).entries().get(normalize(path));
      if (e != null) return Optional.of(e);
    }
    return Optional.empty();
  }

  /**
   * The entry {@code path} names once symbolic links are followed, in it and in its parent
   * directories (Debian's /bin is a link to usr/bin, /usr/bin/java one to /etc/alternatives/java).
   */
  Optional<Entry> resolve(String path) {
    List<String> rest = new ArrayList<>(List.of(normalize(path).split("/")));
    List<String> done = new ArrayList<>();
    for (int hops = 0; !rest.isEmpty(); ) {
      String part = rest.remove(0);
      if (part.isEmpty() || part.equals(".")) continue;
      if (part.equals("..")) {
        if (!done.isEmpty()) done.remove(done.size() - 1);
        continue;
      }
      done.add(part);
      Optional<Entry> e = entry(String.join("/", done));
      if (e.isEmpty() || !e.get().isSymlink()) continue; // layers may omit parent directories
      if (++hops > 40) return Optional.empty();
      String target = e.get().linkTarget();
      done.remove(done.size() - 1);
      if (target.startsWith("/")) done.clear();
      List<String> next = new ArrayList<>(List.of(target.split("/")));
      next.addAll(rest);
      rest = next;
    }
    return entry(String.join("/", done));
  }

  /** The content of a file asked for at {@link #open}, from the topmost layer that has it. */
  Optional<String> text(String path) {
    for (int i = layers.size() - 1; i >= 0; i--) {
      String t = layers.get(i).texts().get(normalize(path));
      if (t != null) return Optional.of(t);
    }
    return Optional.empty();
  }

  static String normalize(String path) {
    String p = path;
    while (p.startsWith("./") || p.startsWith("/")) p = p.substring(p.startsWith("./") ? 2 : 1);
    return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  private static byte[] required(Map<String, byte[]> top, String name, Path tarball) {
    byte[] b = top.get(normalize(name));
    if (b == null) throw new IllegalArgumentException(tarball + " has no " + name);
    return b;
  }

  /** Streams the layer blob out of the tarball: decompressed, hashed and listed in one pass. */
  private static Layer readLayer(Path tarball, String blob, String claimed, List<String> textPaths)
      throws IOException {
    try (TarArchiveInputStream outer =
        new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(tarball)))) {
      for (TarArchiveEntry e; (e = outer.getNextEntry()) != null; ) {
        if (!normalize(e.getName()).equals(normalize(blob))) continue;
        MessageDigest sha256 = sha256();
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> texts = new LinkedHashMap<>();
        try (InputStream content = decompressed(new BufferedInputStream(outer));
            DigestInputStream hashed = new DigestInputStream(content, sha256);
            TarArchiveInputStream layer = new TarArchiveInputStream(hashed)) {
          for (TarArchiveEntry f; (f = layer.getNextEntry()) != null; ) {
            String path = normalize(f.getName());
            if (path.isEmpty()) continue;
            entries.put(
                path,
                new Entry(
                    path,
                    (char) f.getLinkFlag(),
                    f.getLinkName(),
                    (int) f.getLongUserId(),
                    (int) f.getLongGroupId(),
                    f.getMode(),
                    f.getSize()));
            if (textPaths.contains(path))
              texts.put(path, new String(layer.readAllBytes(), StandardCharsets.UTF_8));
          }
          hashed.transferTo(OutputStream.nullOutputStream()); // the trailing padding counts too
        }
        return new Layer(
            blob, claimed, "sha256:" + HexFormat.of().formatHex(sha256.digest()), entries, texts);
      }
    }
    throw new IllegalArgumentException(tarball + " has no layer blob " + blob);
  }

  /** gzip (what Jib writes) or plain tar (what docker save writes), by the magic bytes. */
  private static InputStream decompressed(BufferedInputStream in) throws IOException {
    try {
      return new CompressorStreamFactory().createCompressorInputStream(in);
    } catch (org.apache.commons.compress.compressors.CompressorException notCompressed) {
      return in;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
