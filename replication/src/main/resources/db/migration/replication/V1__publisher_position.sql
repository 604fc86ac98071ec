-- Where the publisher of this region's journal stands: every journal row with an ordering up to
-- and including last_ordering has been published or was proven never to exist (a rolled-back
-- insert's sequence value). Updated only after the broker acknowledged the records.
CREATE TABLE replication_publisher_position (
  publisher_id VARCHAR(255) PRIMARY KEY,
  last_ordering BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sequence values the publisher proved were never committed, kept for audit.
CREATE TABLE replication_skipped_ordering (
  publisher_id VARCHAR(255) NOT NULL,
  ordering BIGINT NOT NULL,
  proven_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (publisher_id, ordering)
);
