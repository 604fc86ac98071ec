package com.shrivenquant.engine.instrument;

import kamon.Kamon;
import kamon.trace.Span;
import kamon.trace.Span$Empty$;
import kamon.trace.Span$Link$Kind;
import kamon.trace.Span$Link$Kind$FollowsFrom$;
import kamon.trace.SpanPropagation$W3CTraceContext$;
import kamon.trace.Trace$SamplingDecision$Sample$;
import scala.Option;

/**
 * An order's trace context as it crosses nodes inside a command: a W3C {@code traceparent} string
 * (Kamon's codec), null when the order is not traced. Spans are made here only for sampled traces,
 * so an unsampled order costs the entity nothing.
 */
public final class OrderTraces {
  static final String COMPONENT = "shrivenquant.engine";
  // Scala objects, reached from Java by their class names.
  public static final Span NONE = Span$Empty$.MODULE$;
  static final Span$Link$Kind FOLLOWS_FROM = Span$Link$Kind$FollowsFrom$.MODULE$;
  private static final SpanPropagation$W3CTraceContext$ W3C =
      SpanPropagation$W3CTraceContext$.MODULE$;

  private OrderTraces() {}

  /** The span as a {@code traceparent}, or null when it is not sampled (nothing to continue). */
  public static String traceParent(Span span) {
    if (span.isEmpty() || !sampled(span)) return null;
    return W3C.encodeTraceParent(span);
  }

  /** The remote parent a {@code traceparent} names, or {@link #NONE} when there is none. */
  public static Span parent(String traceParent) {
    if (traceParent == null || traceParent.isEmpty()) return NONE;
    Option<Span> decoded = W3C.decodeTraceParent(traceParent);
    return decoded.isDefined() ? decoded.get() : NONE;
  }

  static boolean sampled(Span span) {
    return span.trace().samplingDecision() == Trace$SamplingDecision$Sample$.MODULE$;
  }

  /**
   * A command's span inside the entity, child of the sender's; empty unless the trace is sampled.
   */
  static Span start(String operation, String traceParent, String instrument) {
    Span parent = parent(traceParent);
    if (parent.isEmpty() || !sampled(parent)) return NONE;
    return Kamon.internalSpanBuilder(operation, COMPONENT)
        .asChildOf(parent)
        .tag("instrument", instrument)
        .doNotTrackMetrics()
        .start();
  }
}
