package com.shrivenquant.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time by process on this Linux machine, from /proc/PID/stat: the load client (this JVM), the
 * nodes (their pids), PostgreSQL (every process named postgres: live backends, plus the
 * postmaster's reaped children). Where an order's CPU goes bounds the rate 2 shared cores can
 * sustain. (Not the machine-wide /proc/stat: in this VM its busy time came out below the sum of
 * these processes' in some 20 s windows.)
 */
public final class CpuMeter {
  /** USER_HZ: the unit of /proc's CPU times on Linux. */
  private static final double TICKS_PER_SECOND = 100.0;

  record Sample(long nanos, double client, double nodes, double postgres) {}

  /** Seconds of CPU by process and wall seconds between two samples. */
  record Usage(double seconds, double client, double nodes, double postgres) {
    double total() {
      return client + nodes + postgres;
    }

    String perOrder(long acked) {
      double k = acked == 0 ? 0 : 1e6 / acked;
      return String.format(
          "client %.0f, node %.0f, PostgreSQL %.0f us", client * k, nodes * k, postgres * k);
    }

    /**
     * One markdown row: CPU microseconds per acked order by process, and the cores they kept busy.
     */
    String row(String phase, long acked) {
      double perOrder = acked == 0 ? 0 : 1e6 / acked;
      return String.format(
          "| %s | %.0f | %.0f | %.0f | %.0f | %.2f |",
          phase,
          client * perOrder,
          nodes * perOrder,
          postgres * perOrder,
          total() * perOrder,
          total() / seconds);
    }
  }

  static final String HEADER =
      "| phase | client us | node us | PostgreSQL us | together us | cores busy |\n"
          + "|---|---|---|---|---|---|\n";

  private final List<Long> nodePids;

  CpuMeter(List<Long> nodePids) {
    this.nodePids = List.copyOf(nodePids);
  }

  Sample sample() {
    double nodes = 0;
    for (long pid : nodePids) nodes += processSeconds(pid, false);
    double postgres = 0;
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p :
          procs
              .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
              .toList()) {
        String[] stat = stat(p.resolve("stat"));
        if (stat != null && stat[1].equals("(postgres)")) postgres += seconds(stat, true);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc", e);
    }
    return new Sample(
        System.nanoTime(), processSeconds(ProcessHandle.current().pid(), false), nodes, postgres);
  }

  static Usage between(Sample a, Sample b) {
    return new Usage(
        (b.nanos() - a.nanos()) / 1e9,
        b.client() - a.client(),
        b.nodes() - a.nodes(),
        b.postgres() - a.postgres());
  }

  /**
   * CPU seconds of one process so far (utime + stime), optionally with its reaped children's; 0
   * once it is gone.
   */
  public static double processSeconds(long pid, boolean withReapedChildren) {
    String[] stat = stat(Path.of("/proc", Long.toString(pid), "stat"));
    return stat == null ? 0 : seconds(stat, withReapedChildren);
  }

  /**
   * CPU seconds of a process and all its live descendants so far, each with its reaped children: a
   * PostgreSQL server from its postmaster (a backend that exits moves from the live sum into the
   * postmaster's reaped-children times, so the total only grows). 0 once the process is gone.
   */
  public static double processTreeSeconds(long pid) {
    double seconds = processSeconds(pid, true);
    try (Stream<ProcessHandle> descendants =
        ProcessHandle.of(pid).map(ProcessHandle::descendants).orElseGet(Stream::empty)) {
      for (ProcessHandle d : descendants.toList()) seconds += processSeconds(d.pid(), true);
    }
    return seconds;
  }

  /** Fields after the command name (which may hold spaces); index 1 is the name. */
  private static String[] stat(Path file) {
    try {
      String s = Files.readString(file);
      int close = s.lastIndexOf(')');
      String[] rest = s.substring(close + 2).split(" ");
      String[] out = new String[rest.length + 2];
      out[0] = s.substring(0, s.indexOf(' '));
      out[1] = s.substring(s.indexOf(' ') + 1, close + 1);
      System.arraycopy(rest, 0, out, 2, rest.length);
      return out;
    } catch (IOException e) {
      return null; // the process ended between listing and reading
    }
  }

  /** utime (field 14) + stime (15), optionally + cutime (16) + cstime (17). */
  private static double seconds(String[] stat, boolean withReapedChildren) {
    long ticks = Long.parseLong(stat[13]) + Long.parseLong(stat[14]);
    if (withReapedChildren) ticks += Long.parseLong(stat[15]) + Long.parseLong(stat[16]);
    return ticks / TICKS_PER_SECOND;
  }
}
