-- leakline schema 1: everything a node keeps, shared by every node of the service.
-- Every table of an organisation's data leads with `org`: the distribution column a sharded
-- PostgreSQL (Citus) spreads organisations by. Documents are our own JSON as text (not jsonb:
-- jsonb refuses \u0000, which a reporter's mail may carry, and would reorder what is hashed).

-- One row per organisation: the head of its audit chain (locked FOR UPDATE for the whole of
-- every unit of work of the organisation: one writer at a time per organisation, one chain),
-- and its Message-ID key, made once and shared by every node.
CREATE TABLE orgs (
    id              text PRIMARY KEY,
    head_seq        bigint NOT NULL DEFAULT 0,
    head_hash       text NOT NULL DEFAULT repeat('0', 64),
    message_id_key  bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
    org       text NOT NULL,
    id        text NOT NULL,
    year      int NOT NULL,
    number    int NOT NULL,
    status    text,
    doc       text NOT NULL,        -- the case with its messages, as the file backend keeps it
    summary   text NOT NULL,        -- the listing row (SUMMARY_FIELDS and the summarize hook)
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org, id)
);
CREATE INDEX cases_listing ON cases (org, year, number);

-- Message identities and small keyed values: SHA-256 of the key -> value.
CREATE TABLE keys (
    org     text NOT NULL,
    digest  text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (org, digest)
);

CREATE TABLE sequences (
    org     text NOT NULL,
    prefix  text NOT NULL,
    year    int NOT NULL,
    last    int NOT NULL,
    PRIMARY KEY (org, prefix, year)
);

-- Evidence, content-addressed: path is raw/YYYY/MM/<sha256>.eml as in a case's messages.
CREATE TABLE raw (
    org     text NOT NULL,
    path    text NOT NULL,
    sha256  text NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (org, path)
);

CREATE TABLE machine_mail (
    org          text NOT NULL,
    path         text NOT NULL,  -- machine/YYYY/MM/<sha256>.json: once per raw and month
    received_at  text NOT NULL,
    record       text NOT NULL,
    PRIMARY KEY (org, path)
);

-- The audit chain of each organisation: `line` is the chained event exactly as the file
-- backend's chain.jsonl holds it (its hash covers every key).
CREATE TABLE events (
    org      text NOT NULL,
    seq      bigint NOT NULL,
    id       text NOT NULL,
    case_id  text,
    line     text NOT NULL,
    PRIMARY KEY (org, seq),
    UNIQUE (org, id)
);
CREATE INDEX events_case ON events (org, case_id, seq);

-- The outbox of the service. state: queued, sending (handed to a transport by `node`,
-- committed before the hand-over: never resent by itself), sent, failed.
CREATE TABLE outbox (
    key              text PRIMARY KEY,   -- store.outbox.message_key(Message-ID)
    org              text,
    state            text NOT NULL,
    next_attempt_at  timestamptz,
    created_at       timestamptz NOT NULL,
    node             text,
    alert_pending    boolean NOT NULL DEFAULT false,  -- a dead letter whose alert is owed
    record           text NOT NULL,      -- the file backend's record
    message          bytea NOT NULL      -- the message as serialised once
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_org ON outbox (org, state);

-- Accepted mail, committed before the 250: what the file backend keeps in spool/. A row is
-- claimed for a short lease (claimed_by, lease_until) and deleted with the unit of work that
-- stored its message; attempts are counted when claimed, so a message that kills nodes is
-- shunted (shunted_at) after a few, for a person (`leakline spool list|retry`).
CREATE TABLE spool (
    n             bigserial PRIMARY KEY,
    spool_id      text NOT NULL UNIQUE,
    envelope      text NOT NULL,
    raw           bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    attempts      int NOT NULL DEFAULT 0,
    claimed_by    text,
    lease_until   timestamptz,
    last_error    text,
    shunted_at    timestamptz,
    shunt_reason  text
);
CREATE INDEX spool_waiting ON spool (n) WHERE shunted_at IS NULL;

-- The processes working on the database. Each holds the session advisory lock
-- (LOCK_NAMESPACE, lock_key) while it lives: a node whose lock is gone is dead, whatever
-- its rows say, and its claims are taken over.
CREATE SEQUENCE node_lock_keys;
CREATE TABLE nodes (
    id          text PRIMARY KEY,
    host        text NOT NULL,
    pid         int NOT NULL,
    role        text NOT NULL,
    lock_key    int NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now()
);
