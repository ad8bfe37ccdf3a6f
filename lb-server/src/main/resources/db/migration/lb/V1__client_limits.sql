-- Per-client limits set through the admin API, the change counter replicas poll, and bucket levels saved on drain.
-- One script for PostgreSQL and for H2 in PostgreSQL mode: plain types and constraints only. Timestamps are UTC.

CREATE TABLE lb_clients (
  client_id    VARCHAR(512)     NOT NULL PRIMARY KEY,
  capacity     BIGINT           NOT NULL,
  rate_per_sec DOUBLE PRECISION NOT NULL,
  updated_at   TIMESTAMP        NOT NULL,
  -- The same bounds as dev.lb.ratelimit.Limit, so that a row edited by hand cannot stop every replica's reload.
  CONSTRAINT lb_clients_capacity CHECK (capacity BETWEEN 1 AND 1000000000),
  CONSTRAINT lb_clients_rate CHECK (rate_per_sec > 0 AND rate_per_sec <= 1000000000)
);

-- One row; every write of lb_clients increments version in the same transaction, so a replica polls one row and
-- reloads only after a change, in commit order and whatever the replicas' clocks say.
CREATE TABLE lb_meta (
  id      INT    NOT NULL PRIMARY KEY,
  version BIGINT NOT NULL
);
INSERT INTO lb_meta (id, version) VALUES (1, 0);

CREATE TABLE lb_bucket_levels (
  client_id VARCHAR(512)     NOT NULL PRIMARY KEY,
  tokens    DOUBLE PRECISION NOT NULL,
  saved_at  TIMESTAMP        NOT NULL
);
