/**
 * Local infrastructure started from Maven artifacts: PostgreSQL servers, a Kafka broker (child
 * JVM), child JVMs, in-JVM cluster nodes, free ports; and a BIND named (the Debian package bind9, a
 * native child process). No JUnit here (it is an optional dependency), so the dev launcher can use
 * these classes in production code.
 */
package com.shrivenquant.testkit.infra;
