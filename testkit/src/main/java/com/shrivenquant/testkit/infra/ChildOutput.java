package com.shrivenquant.testkit.infra;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A {@link ChildJvm}'s output (stdout and stderr, merged): pumped into its log file, our stdout if
 * echoing, and an in-memory copy, so waiting for a line never re-reads the file.
 */
final class ChildOutput {

  private static final int MAX_BUFFERED_LINES = 100_000;

  private final List<String> lines = new ArrayList<>();
  private long dropped;
  private boolean closed;

  /**
   * Appended, not replaced: a restarted node must not erase the log of the crash before. Creates
   * the directory.
   */
  static BufferedWriter openLog(Path logFile) throws IOException {
    Files.createDirectories(logFile.getParent());
    return Files.newBufferedWriter(
        logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  static void writeQuietly(BufferedWriter log, String line) {
    try {
      log.write(line);
      log.newLine();
      log.flush(); // readable mid-run and complete after a crash
    } catch (IOException ignored) {
      // a full disk must not block the child on a full pipe
    }
  }

  /**
   * Starts a daemon thread that copies {@code in} line by line until EOF, then closes {@code log}
   * and this output.
   */
  Thread startPump(InputStream in, BufferedWriter log, String name, boolean echo) {
    Thread pump = new Thread(() -> pump(in, log, name, echo), "child-jvm-output-" + name);
    pump.setDaemon(true);
    pump.start();
    return pump;
  }

  private void pump(InputStream stream, BufferedWriter log, String name, boolean echo) {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(stream, Charset.defaultCharset()))) {
      String line;
      while ((line = in.readLine()) != null) {
        add(line);
        writeQuietly(log, line);
        if (echo) {
          System.out.println("[" + name + "] " + line);
        }
      }
    } catch (IOException ignored) {
      // the stream closes when the process dies; nothing more to read
    } finally {
      try {
        log.close();
      } catch (IOException ignored) {
        // the log is best effort; the in-memory lines still serve awaitLogLine
      }
      close();
    }
  }

  synchronized void add(String line) {
    lines.add(line);
    if (lines.size() > MAX_BUFFERED_LINES) {
      int drop = MAX_BUFFERED_LINES / 2;
      lines.subList(0, drop).clear();
      dropped += drop;
    }
    notifyAll();
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }

  synchronized boolean isClosed() {
    return closed;
  }

  synchronized List<String> snapshot() {
    return List.copyOf(lines);
  }

  /** The first matching line, or null on timeout or end of output. */
  synchronized String await(Pattern pattern, long deadlineNanos) throws InterruptedException {
    long next = 0; // absolute line number, so dropping old lines does not rescan
    while (true) {
      for (long i = Math.max(next, dropped); i < dropped + lines.size(); i++) {
        String line = lines.get((int) (i - dropped));
        if (pattern.matcher(line).find()) {
          return line;
        }
      }
      next = dropped + lines.size();
      long remaining = deadlineNanos - System.nanoTime();
      if (closed || remaining <= 0) {
        return null;
      }
      TimeUnit.NANOSECONDS.timedWait(this, remaining);
    }
  }
}
