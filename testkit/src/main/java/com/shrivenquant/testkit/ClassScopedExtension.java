package com.shrivenquant.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One resource per test class: started before its first test, closed after its last.
 *
 * <p>{@code @Nested} classes inherit the outer class's static extensions and JUnit calls their
 * BeforeAll/AfterAll again; the owner check makes them share the outer resource instead of
 * starting a second one or closing it early.
 */
abstract class ClassScopedExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

  private Class<?> owner;

  /** Starts the resource; on failure it must clean up whatever it had started. */
  protected abstract void start(ExtensionContext context) throws Exception;

  protected abstract void stop() throws Exception;

  @Override
  public final void beforeAll(ExtensionContext context) throws Exception {
    if (owner != null) {
      return;
    }
    start(context);
    owner = context.getRequiredTestClass();
  }

  @Override
  public final void afterAll(ExtensionContext context) throws Exception {
    if (owner == null || context.getRequiredTestClass() != owner) {
      return;
    }
    owner = null;
    stop();
  }

  @Override
  public final void beforeEach(ExtensionContext context) {
    if (owner == null) {
      // JUnit never calls BeforeAll on an instance field registered per test method.
      throw new IllegalStateException(getClass().getSimpleName()
          + " is per test class: register it on a static @RegisterExtension field"
          + " (or use @TestInstance(PER_CLASS))");
    }
  }

  protected final boolean isStarted() {
    return owner != null;
  }

  protected final void requireStarted() {
    if (owner == null) {
      throw new IllegalStateException(getClass().getSimpleName()
          + " is not started: use it from tests or @BeforeAll methods after it, not from field initialisers");
    }
  }

  /** The test class's simple name, fit for an ActorSystem name. */
  static String systemNameFor(ExtensionContext context) {
    String name = context.getRequiredTestClass().getSimpleName().replaceAll("[^A-Za-z0-9_-]", "-");
    return name.isEmpty() || !Character.isLetterOrDigit(name.charAt(0)) ? "test" + name : name;
  }
}
