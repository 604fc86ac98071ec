-- The witness: one primacy lease per region pair, judged by this database's clock only.
CREATE TABLE primacy_lease (
  name        text PRIMARY KEY,
  holder      text,
  epoch       bigint      NOT NULL,
  renewed_at  timestamptz NOT NULL,
  -- The TTL the holder promised to respect (its fence margin stays below it).
  ttl_ms      bigint      NOT NULL
);

-- Every change of holder or epoch, for incidents and audits.
CREATE TABLE primacy_lease_history (
  id         bigserial PRIMARY KEY,
  name       text        NOT NULL,
  holder     text        NOT NULL,
  epoch      bigint      NOT NULL,
  previous   text,
  how        text        NOT NULL,
  taken_at   timestamptz NOT NULL
);
