-- The event store: the only source of truth for orders. Append-only; (stream_id, version) is
-- the optimistic-concurrency guard: two writers that read the same version cannot both append.
CREATE TABLE order_events (
    stream_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    occurred_ms BIGINT NOT NULL,
    PRIMARY KEY (stream_id, version)
);
-- The read model (CQRS): one row per order, derived from the events; disposable and rebuilt by
-- replaying order_events.
CREATE TABLE order_view (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    items TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX order_view_by_user ON order_view (user_id);
CREATE INDEX order_view_by_status ON order_view (status);
