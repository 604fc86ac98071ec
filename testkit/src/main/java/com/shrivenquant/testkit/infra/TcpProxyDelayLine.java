package com.shrivenquant.testkit.infra;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One direction of a delayed {@link TcpProxyConnection}: a FIFO of what its pump read (chunks, and
 * at the end its EOF or read failure), each due a delay after it was read, and a writer thread that
 * hands each one to the connection once it is due. The pump never waits for the delay, so a delay
 * line carries as many bytes per second as the direct path; only a full window (a peer that does
 * not read) holds the pump back.
 *
 * <p>Order is kept: an item is handed over only after every item read before it, even when the
 * delay was lowered in between (it then waits for its predecessors). The pump may bypass the line
 * and write directly only while the line is {@link #idle()}: nothing queued and nothing being
 * handed over. The pump is the only producer, so a line it saw idle stays idle until it adds again.
 *
 * <p>Nothing here decides whether a chunk is written: the connection checks its state under its own
 * lock when the chunk is handed over. This class never calls out while holding its lock.
 */
final class TcpProxyDelayLine {

  /**
   * Bytes queued before the pump waits: the most a delayed direction holds, like a TCP window. At
   * 32 MiB a 100 ms delay still carries 320 MiB/s.
   */
  static final long WINDOW_BYTES = 32L * 1024 * 1024;

  /** Something the pump read: a chunk, or (bytes null) its EOF or read failure. */
  record Item(byte[] bytes, boolean failure, long dueNanos) {
    int size() {
      return bytes == null ? 0 : bytes.length;
    }
  }

  private final String threadName;
  private final Consumer<Item> handOver;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // all guarded by lock
  private final ArrayDeque<Item> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean handingOver;
  private boolean stopped;
  private Thread writer;

  TcpProxyDelayLine(String threadName, Consumer<Item> handOver) {
    this.threadName = threadName;
    this.handOver = handOver;
  }

  /** Nothing queued and nothing being handed over: the pump may write directly. */
  boolean idle() {
    lock.lock();
    try {
      return queue.isEmpty() && !handingOver;
    } finally {
      lock.unlock();
    }
  }

  /** Bytes queued, not yet handed over. */
  long queuedBytes() {
    lock.lock();
    try {
      return queuedBytes;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues an item (waiting while the window is full). False if the line was stopped: the item is
   * not queued.
   */
  boolean add(Item item) {
    lock.lock();
    try {
      while (!stopped && item.bytes() != null && queuedBytes >= WINDOW_BYTES) {
        changed.awaitUninterruptibly();
      }
      if (stopped) {
        return false;
      }
      queue.addLast(item);
      queuedBytes += item.size();
      if (writer == null) {
        writer = TcpProxySockets.daemon(this::writeLoop, threadName);
        writer.start();
      }
      changed.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Drops everything queued (not the item being handed over); returns the bytes dropped. */
  long discard() {
    lock.lock();
    try {
      long dropped = queuedBytes;
      queue.clear();
      queuedBytes = 0;
      changed.signalAll();
      return dropped;
    } finally {
      lock.unlock();
    }
  }

  /** Discards, and ends the writer: nothing is queued or handed over after this. */
  long stop() {
    lock.lock();
    try {
      stopped = true;
      return discard();
    } finally {
      lock.unlock();
    }
  }

  private void writeLoop() {
    while (true) {
      Item item = next();
      if (item == null) {
        return;
      }
      try {
        handOver.accept(item);
      } finally {
        lock.lock();
        try {
          handingOver = false;
          changed.signalAll();
        } finally {
          lock.unlock();
        }
      }
      if (item.bytes() == null) {
        return; // the pump's last item
      }
    }
  }

  /** The head item once it is due (marked as being handed over), or null once stopped. */
  private Item next() {
    lock.lock();
    try {
      while (true) {
        if (stopped) {
          return null;
        }
        Item head = queue.peekFirst();
        if (head == null) {
          changed.awaitUninterruptibly();
          continue;
        }
        long left = head.dueNanos() - System.nanoTime();
        if (left > 0) {
          awaitNanos(left);
          continue;
        }
        queue.removeFirst();
        queuedBytes -= head.size();
        handingOver = true;
        changed.signalAll(); // room in the window
        return head;
      }
    } finally {
      lock.unlock();
    }
  }

  private void awaitNanos(long nanos) {
    try {
      changed.await(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException ignored) {
      // a daemon nobody interrupts; the loop checks the head and stop() again either way
    }
  }
}
