package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreePortsTest {

  @Test
  void portsAreDistinctBindableAndNeverRepeated() throws Exception {
    List<Integer> first = FreePorts.freePorts(5);
    List<Integer> second = FreePorts.freePorts(5);
    var all = new HashSet<>(first);
    all.addAll(second);
    assertEquals(10, all.size());
    for (int port : first) {
      assertTrue(port > 0);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
      }
    }
  }
}
