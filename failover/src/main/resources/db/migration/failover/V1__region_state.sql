-- Failover's tables in each region's own database, next to its journal.

-- What this region is (ACTIVE, STANDBY, FENCED) and in which epoch: every node of the region
-- reads it, the region's coordinator writes it.
CREATE TABLE region_state (
  region      text PRIMARY KEY,
  role        text        NOT NULL CHECK (role IN ('ACTIVE', 'STANDBY', 'FENCED')),
  epoch       bigint      NOT NULL,
  reason      text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Promotions, switchovers and failbacks, each as its JSON incident document.
CREATE TABLE failover_incident (
  id          bigserial PRIMARY KEY,
  epoch       bigint      NOT NULL,
  kind        text        NOT NULL,
  document    jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Consistency reports after each promotion; the RPO as a list of events.
CREATE TABLE consistency_report (
  id          bigserial PRIMARY KEY,
  epoch       bigint      NOT NULL,
  verdict     text        NOT NULL,
  document    jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- A fenced region's events that never reached the new active region: set aside, never dropped.
CREATE TABLE reconciliation_tail (
  persistence_id     text        NOT NULL,
  sequence_number    bigint      NOT NULL,
  fenced_epoch       bigint      NOT NULL,
  ordering_was       bigint      NOT NULL,
  writer             text        NOT NULL,
  write_timestamp    bigint      NOT NULL,
  event_ser_id       integer     NOT NULL,
  event_ser_manifest text        NOT NULL,
  event_payload      bytea       NOT NULL,
  set_aside_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (persistence_id, sequence_number, fenced_epoch)
);

-- Append-only audit trail of failover actions (who, what, outcome).
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor       text        NOT NULL,
  action      text        NOT NULL,
  target      text,
  source      text,
  outcome     text        NOT NULL,
  detail      jsonb
);

-- At each promotion, after the drain: the last sequence number per entity the new active region
-- started from. The old primary, fenced, sets aside every event of its own beyond it.
CREATE TABLE promotion (
  epoch         bigint PRIMARY KEY,
  region        text        NOT NULL,
  previous      text,
  kind          text        NOT NULL,
  promoted_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE replicated_prefix (
  epoch            bigint NOT NULL REFERENCES promotion (epoch),
  persistence_id   text   NOT NULL,
  sequence_number  bigint NOT NULL,
  PRIMARY KEY (epoch, persistence_id)
);
