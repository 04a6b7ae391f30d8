-- Retention (`haodian retention run`, workers/runtime/retention.py): once the inbox forgets
-- an event, the compliance tables must recognise a replay by the event that caused a row.

-- One review per input event: a replayed product.submitted / product.reviewed is found here.
CREATE UNIQUE INDEX product_reviews_event ON product_reviews (event_source, event_id);
-- One refusal per input event: a replayed store.open_requested that was refused is found here.
CREATE UNIQUE INDEX store_rejections_event ON store_rejections (event_source, event_id);

-- Retention deletes old rows in batches every hour; vacuum the runtime's busiest tables
-- after 2% dead rows instead of 20%, so freed space is reused before the tables grow.
ALTER TABLE inbox SET (autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.02);
