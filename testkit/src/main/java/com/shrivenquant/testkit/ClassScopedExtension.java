package com.shrivenquant.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One resource per test class: started before its first test, closed after its last.
 *
 * <p>{@code @Nested} classes inherit the outer class's static extensions and JUnit calls their
 * BeforeAll/AfterAll again; the owner check makes them share the outer resource instead of starting
 * a second one or closing it early.
 */
abstract class ClassScopedExtension
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

  private boolean started;
  private Class<?> owner;

  /**
   * Starts the resource; on failure it must clean up whatever it had started. {@code context} is
   * null when {@link #ensureStarted()} starts it early.
   */
  protected abstract void start(ExtensionContext context) throws Exception;

  protected abstract void stop() throws Exception;

  @Override
  public final synchronized void beforeAll(ExtensionContext context) throws Exception {
    if (owner != null) {
      return;
    }
    if (!started) {
      start(context);
      started = true;
    }
    owner = context.getRequiredTestClass();
  }

  @Override
  public final synchronized void afterAll(ExtensionContext context) throws Exception {
    if (owner == null || context.getRequiredTestClass() != owner) {
      return;
    }
    owner = null;
    started = false;
    stop();
  }

  @Override
  public final synchronized void beforeEach(ExtensionContext context) {
    if (owner == null) {
      // JUnit never calls BeforeAll on an instance field registered per test method.
      throw new IllegalStateException(
          getClass().getSimpleName()
              + " is per test class: register it on a static @RegisterExtension field"
              + " (or use @TestInstance(PER_CLASS))");
    }
  }

  /**
   * Starts now if BeforeAll has not run yet. JUnit orders {@code @RegisterExtension} fields
   * unpredictably unless they carry {@code @Order}, so a resource another extension's BeforeAll
   * reads (a database port) starts on that first read.
   */
  protected final synchronized void ensureStarted() {
    if (started) {
      return;
    }
    try {
      start(null);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("could not start " + getClass().getSimpleName(), e);
    }
    started = true;
  }

  protected final synchronized void requireStarted() {
    if (!started) {
      throw new IllegalStateException(
          getClass().getSimpleName()
              + " is not started. Use it from tests or"
              + " @BeforeAll methods; if another extension's BeforeAll uses it, give both fields @Order.");
    }
  }

  /** The test class's simple name, fit for an ActorSystem name. */
  static String systemNameFor(ExtensionContext context) {
    String name = context.getRequiredTestClass().getSimpleName().replaceAll("[^A-Za-z0-9_-]", "-");
    return name.isEmpty() || !Character.isLetterOrDigit(name.charAt(0)) ? "test" + name : name;
  }
}
