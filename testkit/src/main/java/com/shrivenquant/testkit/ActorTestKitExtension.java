package com.shrivenquant.testkit;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 counterpart of Akka's JUnit 4 {@code TestKitJunitResource}: one {@link ActorTestKit} per
 * test class, shut down after the last test.
 *
 * <pre>{@code
 * @RegisterExtension static final ActorTestKitExtension testKit = new ActorTestKitExtension(config);
 * var probe = testKit.<Reply>createTestProbe();  var ref = testKit.spawn(MyActor.create());
 * }</pre>
 *
 * <p>The config is used as is, on top of Akka's reference.conf, as Akka's own testkit does: no
 * application.conf. A {@link Supplier} is called in BeforeAll, so it can read a {@link
 * PostgresExtension} of the same class (which starts on that read if needed).
 */
public final class ActorTestKitExtension extends ClassScopedExtension {

  private final Supplier<Config> config;
  private volatile ActorTestKit testKit;

  /** Config from {@code application-test.conf} if present, else reference.conf only. */
  public ActorTestKitExtension() {
    this.config = null;
  }

  public ActorTestKitExtension(Config config) {
    Objects.requireNonNull(config);
    this.config = () -> config;
  }

  public ActorTestKitExtension(Supplier<Config> config) {
    this.config = Objects.requireNonNull(config);
  }

  @Override
  protected void start(ExtensionContext context) {
    String name = systemNameFor(context);
    testKit = config == null ? ActorTestKit.create(name) : ActorTestKit.create(name, config.get());
  }

  @Override
  protected void stop() {
    ActorTestKit kit = testKit;
    testKit = null;
    kit.shutdownTestKit();
  }

  public ActorTestKit testKit() {
    requireStarted();
    return testKit;
  }

  public ActorSystem<Void> system() {
    return testKit().system();
  }

  public <T> ActorRef<T> spawn(Behavior<T> behavior) {
    return testKit().spawn(behavior);
  }

  public <T> ActorRef<T> spawn(Behavior<T> behavior, String name) {
    return testKit().spawn(behavior, name);
  }

  public <T> ActorRef<T> spawn(Behavior<T> behavior, String name, Props props) {
    return testKit().spawn(behavior, name, props);
  }

  public <M> TestProbe<M> createTestProbe() {
    return testKit().createTestProbe();
  }

  public <M> TestProbe<M> createTestProbe(Class<M> messageClass) {
    return testKit().createTestProbe(messageClass);
  }

  public <M> TestProbe<M> createTestProbe(String name) {
    return testKit().createTestProbe(name);
  }

  public <M> TestProbe<M> createTestProbe(String name, Class<M> messageClass) {
    return testKit().createTestProbe(name, messageClass);
  }

  /** Stops an actor spawned by this testkit and waits until it has stopped. */
  public <T> void stop(ActorRef<T> ref) {
    testKit().stop(ref);
  }

  public <T> void stop(ActorRef<T> ref, Duration max) {
    testKit().stop(ref, max);
  }
}
