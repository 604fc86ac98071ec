package com.shrivenquant.engine.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * A snapshot of an {@link InstrumentEngine} in its binary form ({@link
 * InstrumentEngine#snapshotBytes()}), in a plain record so that the persistence layer can bind it
 * to a serializer by class name: Jackson writes the array as one CBOR byte string. The array is not
 * copied; nothing may modify it.
 */
public record EngineSnapshotBytes(byte[] data) {

  public EngineSnapshotBytes {
    Objects.requireNonNull(data, "data");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EngineSnapshotBytes other && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "EngineSnapshotBytes[" + data.length + " bytes]";
  }
}
