package com.shrivenquant.testkit.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A broker with a second client listener advertised at a {@link TcpProxy}'s port: clients that
 * bootstrap on the proxy stay behind it (a blackhole cuts them off, a delay slows them), clients on
 * the PLAINTEXT port do not notice.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaBrokerProxiedListenerIT {

  private static final String TOPIC = "wan";

  @Test
  void proxiedClientsGoThroughTheProxyAndDirectOnesDoNot() throws Exception {
    int listenerPort = FreePorts.freePort();
    try (TcpProxy wan = TcpProxy.start("kafka-proxied", "127.0.0.1", listenerPort);
        KafkaBroker broker =
            KafkaBroker.builder()
                .name("kafka-proxied-listener")
                .proxiedListener(listenerPort, wan.port())
                .start()) {
      assertTrue(broker.hasProxiedListener());
      assertEquals(listenerPort, broker.proxiedListenerPort());
      assertEquals("127.0.0.1:" + wan.port(), broker.proxiedBootstrapServers());
      assertTrue(
          broker
              .serverProperties()
              .get("advertised.listeners")
              .contains("PROXIED://127.0.0.1:" + wan.port()),
          broker.serverProperties().toString());
      broker.createTopic(TOPIC, 1);

      try (KafkaProducer<String, String> proxied = producer(broker.proxiedBootstrapServers());
          KafkaProducer<String, String> direct = producer(broker.bootstrapServers())) {
        send(proxied, "through-the-proxy");
        assertTrue(wan.bytesToTarget() > 0, "the proxied producer's bytes went through the proxy");
        assertEquals(List.of("through-the-proxy"), consume(broker.bootstrapServers(), 1));

        // A produce request and its response each cross the delayed link.
        Duration delay = Duration.ofMillis(100);
        wan.delay(delay);
        long start = System.nanoTime();
        send(proxied, "delayed");
        long took = System.nanoTime() - start;
        assertTrue(
            took >= delay.multipliedBy(2).toNanos(),
            "a delayed produce took " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        wan.delay(Duration.ZERO);

        // Cut off: the proxied producer's next produce goes nowhere (its connection to the broker
        // is the proxy's too), the direct one's still lands.
        long forwarded = wan.bytesToTarget();
        wan.blackhole();
        ExecutionException cut =
            assertThrows(
                ExecutionException.class,
                () ->
                    proxied
                        .send(new ProducerRecord<>(TOPIC, 0, "k", "lost"))
                        .get(30, TimeUnit.SECONDS));
        assertTrue(
            cut.getCause() instanceof org.apache.kafka.common.errors.TimeoutException,
            cut.toString());
        assertEquals(forwarded, wan.bytesToTarget(), "nothing went through the blackhole");
        send(direct, "direct-while-cut");
        assertEquals(
            List.of("through-the-proxy", "delayed", "direct-while-cut"),
            consume(broker.bootstrapServers(), 3));
      }

      // Restarted on the same ports: the proxy (healed) still reaches the listener.
      wan.restore();
      broker.restart();
      assertEquals(listenerPort, broker.proxiedListenerPort());
      try (KafkaProducer<String, String> proxied = producer(broker.proxiedBootstrapServers())) {
        send(proxied, "after-restart");
      }
      assertEquals(
          List.of("through-the-proxy", "delayed", "direct-while-cut", "after-restart"),
          consume(broker.bootstrapServers(), 4));
    }
  }

  @Test
  void itsPortsAreChecked() {
    KafkaBroker.Builder builder = KafkaBroker.builder();
    assertThrows(IllegalArgumentException.class, () -> builder.proxiedListener(0, 9092));
    assertThrows(IllegalArgumentException.class, () -> builder.proxiedListener(9092, 70_000));
  }

  private static KafkaProducer<String, String> producer(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "4000");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    p.put(ProducerConfig.RETRIES_CONFIG, "0");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static void send(KafkaProducer<String, String> producer, String value) throws Exception {
    producer.send(new ProducerRecord<>(TOPIC, 0, "k", value)).get(30, TimeUnit.SECONDS);
  }

  private static List<String> consume(String bootstrapServers, int expected)
      throws InterruptedException {
    return PartitionReader.fromStart(bootstrapServers, new TopicPartition(TOPIC, 0), expected)
        .stream()
        .map(ConsumerRecord::value)
        .toList();
  }
}
