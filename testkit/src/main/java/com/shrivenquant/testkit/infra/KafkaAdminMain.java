package com.shrivenquant.testkit.infra;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Topic administration for {@link KafkaBroker}, run ONLY in a child JVM whose class path is the
 * broker's (its kafka-clients is the broker's version). Never load this class in a test or node
 * JVM: those may carry Alpakka Kafka's kafka-clients 3.0.x, or none. {@link KafkaBroker} names it
 * by string for that reason.
 *
 * <pre>
 * create-topic  &lt;bootstrap&gt; &lt;topic&gt; &lt;partitions&gt; [config=value ...]
 * create-topics &lt;bootstrap&gt; &lt;topic&gt;:&lt;partitions&gt; [...]
 * </pre>
 *
 * Replication factor 1. Returns once every partition has a leader. A topic that exists with the
 * same partition count is fine; another count fails. Exit 0 on success, 1 on failure, 2 on usage.
 */
final class KafkaAdminMain {

  private static final long TIMEOUT_MS = 30_000;

  private KafkaAdminMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      usage(args);
      return;
    }
    Map<String, Integer> partitions = new LinkedHashMap<>();
    Map<String, String> configs = new LinkedHashMap<>();
    switch (args[0]) {
      case "create-topic" -> {
        if (args.length < 4) {
          usage(args);
          return;
        }
        partitions.put(args[2], Integer.parseInt(args[3]));
        for (String kv : Arrays.asList(args).subList(4, args.length)) {
          int eq = kv.indexOf('=');
          if (eq < 1) {
            usage(args);
            return;
          }
          configs.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      case "create-topics" -> {
        for (String spec : Arrays.asList(args).subList(2, args.length)) {
          int colon = spec.lastIndexOf(':');
          if (colon < 1) {
            usage(args);
            return;
          }
          partitions.put(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
        }
      }
      default -> {
        usage(args);
        return;
      }
    }
    try {
      createTopics(args[1], partitions, configs);
    } catch (Exception e) {
      System.out.println("FAILED: " + e);
      e.printStackTrace(System.out);
      System.exit(1);
    }
    System.exit(0); // the admin client's threads must not keep the JVM alive
  }

  private static void createTopics(
      String bootstrap, Map<String, Integer> partitions, Map<String, String> configs)
      throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "shrivenquant-testkit-admin");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(TIMEOUT_MS));
    try (Admin admin = Admin.create(props)) {
      List<NewTopic> topics = new ArrayList<>();
      partitions.forEach(
          (name, count) -> topics.add(new NewTopic(name, count, (short) 1).configs(configs)));
      var result = admin.createTopics(topics);
      for (NewTopic topic : topics) {
        try {
          result.values().get(topic.name()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
          System.out.println(
              "created " + topic.name() + " with " + topic.numPartitions() + " partitions");
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
          System.out.println("exists " + topic.name());
        }
      }
      awaitLeaders(admin, partitions);
    }
  }

  /** Also checks the partition count of topics that existed already. */
  private static void awaitLeaders(Admin admin, Map<String, Integer> partitions) throws Exception {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    Set<String> names = partitions.keySet();
    while (true) {
      Map<String, TopicDescription> described;
      try {
        described =
            admin.describeTopics(names).allTopicNames().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        // UnknownTopicOrPartition until the broker's metadata caught up with the controller
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        Thread.sleep(50);
        continue;
      }
      boolean ready = true;
      for (TopicDescription d : described.values()) {
        int want = partitions.get(d.name());
        if (d.partitions().size() != want) {
          throw new IllegalStateException(
              "topic "
                  + d.name()
                  + " exists with "
                  + d.partitions().size()
                  + " partitions, not "
                  + want);
        }
        for (TopicPartitionInfo p : d.partitions()) {
          ready &= p.leader() != null && !p.leader().isEmpty();
        }
      }
      if (ready) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException(
            "partitions without a leader after " + TIMEOUT_MS + " ms: " + described);
      }
      Thread.sleep(50);
    }
  }

  private static void usage(String[] args) {
    System.out.println(
        "usage: create-topic <bootstrap> <topic> <partitions> [config=value ...]"
            + " | create-topics <bootstrap> <topic>:<partitions> ...; got "
            + Arrays.toString(args));
    System.exit(2);
  }
}
