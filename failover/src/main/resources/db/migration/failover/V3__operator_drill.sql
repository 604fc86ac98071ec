-- Drills started through the operator API on a live deployment: a planned switchover to the peer
-- region, measured. The report is written once, when the drill ends.
CREATE TABLE operator_drill (
  id            bigserial PRIMARY KEY,
  kind          text        NOT NULL,
  region        text        NOT NULL,
  requested_by  text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
  started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at   timestamptz,
  report        jsonb
);

-- One drill at a time per region: a second start is refused while one runs.
CREATE UNIQUE INDEX operator_drill_one_running ON operator_drill (region) WHERE status = 'RUNNING';
