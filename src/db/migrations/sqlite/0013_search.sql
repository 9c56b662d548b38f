-- 0013: the bigram index of the keyword search (src/modules/work_order_search.c says
-- what q finds and how).  FTS5 trigrams cannot find one or two characters, so a
-- 2-character query scanned every order (~450 ms at a million when the pair is absent).
--
-- work_order_grams holds each distinct pair of consecutive code points of an order's
-- title, description and address (ASCII letters in lower case) with the order: the
-- posting of a pair, newest order last, is one range of the primary key.  It is kept
-- by the work-order module at the end of each commit batch, from the pending table
-- of 0003 (the orders the batch changed), like the FTS5 index.
CREATE TABLE work_order_grams (
	gram TEXT NOT NULL,
	order_id INTEGER NOT NULL,
	PRIMARY KEY (gram, order_id)
) WITHOUT ROWID;

-- The orders that exist before this migration: the server indexes them after it
-- starts (in C: SQL has no convenient way to split text into code-point pairs on
-- both backends) and takes each off this list; 2-character queries scan until the
-- list is empty.  A tool that writes orders into the file directly lists them here.
CREATE TABLE work_order_grams_todo (
	id INTEGER PRIMARY KEY
);
INSERT INTO work_order_grams_todo (id) SELECT id FROM work_orders;

-- q equal to an order's 12345 number finds it: looked up on its own (the unique index
-- of 0002 leads with the channel).
CREATE INDEX work_orders_external_id ON work_orders(external_id) WHERE external_id IS NOT NULL;
