-- Funnel rollups are built in the background, in short transactions
-- (vibe_store::funnel_build): 0 clear, 1 scan events, 2 recompute people, 3 ready.
ALTER TABLE funnels ADD COLUMN build_phase INTEGER NOT NULL DEFAULT 3;
-- Phase 1: events with ts <= build_ts have their hits.
ALTER TABLE funnels ADD COLUMN build_ts INTEGER;
-- Phase 2: people <= build_person are recomputed.
ALTER TABLE funnels ADD COLUMN build_person TEXT;
-- Event time range when the scan started, for the progress figure.
ALTER TABLE funnels ADD COLUMN build_first_ts INTEGER;
ALTER TABLE funnels ADD COLUMN build_last_ts INTEGER;
-- Funnels whose rollup was never built are rebuilt by the builder, not on start.
UPDATE funnels SET build_phase = 0, rollup_ready = 1 WHERE rollup_ready = 0;
