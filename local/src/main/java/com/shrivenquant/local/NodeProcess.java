package com.shrivenquant.local;

import com.shrivenquant.cluster.NodeMain;
import com.shrivenquant.testkit.infra.ChildJvm;

/**
 * A node as a child process, on the node's own class path: the deployable module's
 * (cluster/target), which bin/shrivenquant passes as {@value #CLASSPATH_PROPERTY}, so a local node
 * runs the jars the image ships and not the launcher's (testkit, embedded PostgreSQL, or the
 * benchmarks' mediated versions). Without the property (tests): this JVM's class path.
 */
public final class NodeProcess {
  public static final String CLASSPATH_PROPERTY = "shrivenquant.node.classpath";

  private NodeProcess() {}

  public static ChildJvm.Builder builder(String name) {
    ChildJvm.Builder builder = ChildJvm.builder(name, NodeMain.class);
    String classpath = System.getProperty(CLASSPATH_PROPERTY, "");
    return classpath.isBlank() ? builder : builder.classpath(classpath);
  }
}
