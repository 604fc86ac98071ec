-- Standby region: the next Kafka offset to apply per partition, written in the same transaction
-- as the journal rows it covers, so a crash neither skips nor applies twice.
CREATE TABLE replication_applier_offset (
  topic VARCHAR(255) NOT NULL,
  kafka_partition INTEGER NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, kafka_partition)
);

-- Records the applier refused (written under an epoch older than the current one), reported and
-- kept, never applied.
CREATE TABLE replication_refused (
  topic VARCHAR(255) NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  record_epoch BIGINT NOT NULL,
  current_epoch BIGINT NOT NULL,
  reason VARCHAR(255) NOT NULL,
  refused_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
