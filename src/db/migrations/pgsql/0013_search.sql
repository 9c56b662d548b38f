-- 0013: the bigram index of the keyword search (src/modules/work_order_search.c says
-- what q finds and how; the same answers as on SQLite).  PostgreSQL has no FTS5: the
-- bigram index serves 2-character queries and, by intersecting the postings of three
-- of their bigrams, longer ones; every candidate is verified on the row.
--
-- work_order_grams holds each distinct pair of consecutive code points of an order's
-- title, description and address (ASCII letters in lower case) with the order.
CREATE TABLE work_order_grams (
	gram TEXT COLLATE "C" NOT NULL,
	order_id BIGINT NOT NULL,
	PRIMARY KEY (gram, order_id)
);

-- The orders a batch inserted (indexed 0) or changed the text of (indexed 1, with the
-- text before the batch: its bigrams are the ones in the index), noted by the
-- triggers below and consumed by the work-order module at the end of the batch, in
-- the same transaction (gz_wo_search_sync).  The first note of a transaction wins.
CREATE TABLE work_order_grams_pending (
	id BIGINT PRIMARY KEY,
	indexed INTEGER NOT NULL,
	title TEXT,
	description TEXT,
	address TEXT
);
CREATE FUNCTION work_order_grams_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO work_order_grams_pending (id, indexed) VALUES (NEW.id, 0)
		ON CONFLICT (id) DO NOTHING;
	ELSIF NEW.title IS DISTINCT FROM OLD.title OR NEW.description IS DISTINCT FROM OLD.description
	      OR NEW.address IS DISTINCT FROM OLD.address THEN
		INSERT INTO work_order_grams_pending (id, indexed, title, description, address)
		VALUES (OLD.id, 1, OLD.title, OLD.description, coalesce(OLD.address, ''))
		ON CONFLICT (id) DO NOTHING;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER work_order_grams_insert AFTER INSERT ON work_orders
	FOR EACH ROW EXECUTE FUNCTION work_order_grams_note();
CREATE TRIGGER work_order_grams_update AFTER UPDATE OF title, description, address ON work_orders
	FOR EACH ROW EXECUTE FUNCTION work_order_grams_note();

-- The exact test of a match: needle (ASCII letters already in lower case) is a
-- substring of hay with hay's ASCII letters folded -- lower() under the "C" collation
-- folds A-Z only, like SQLite's LIKE; lower() and ILIKE otherwise fold every script.
-- A PL/pgSQL function, not inlined, declared costly: the planner then tests only the
-- candidates the bigram index yields instead of every order.
CREATE FUNCTION gz_contains_ascii_ci(hay TEXT, needle TEXT) RETURNS BOOLEAN
	LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
BEGIN
	RETURN strpos(lower(hay COLLATE "C"), needle) > 0;
END
$$;

-- The orders that exist before this migration: the server indexes them after it
-- starts and takes each off this list; the bigram paths scan until it is empty.
CREATE TABLE work_order_grams_todo (
	id BIGINT PRIMARY KEY
);
INSERT INTO work_order_grams_todo (id) SELECT id FROM work_orders;

-- q equal to an order's 12345 number finds it: looked up on its own (the unique index
-- of 0002 leads with the channel).
CREATE INDEX work_orders_external_id ON work_orders(external_id) WHERE external_id IS NOT NULL;
