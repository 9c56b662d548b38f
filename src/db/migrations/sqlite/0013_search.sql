-- 0013: the bigram index of the keyword search (src/modules/work_order_search.c says
-- what q finds and how).  FTS5 trigrams cannot find one or two characters, so a
-- 2-character query scanned every order (~450 ms at a million when the pair is absent).
--
-- work_orders_bigrams holds, as one document per order (rowid = the order's id), each
-- distinct pair of consecutive code points of its title, description and address
-- (ASCII letters in lower case), written as a token of 12 hex digits (two code
-- points of 6).  FTS5 rather than a (gram, order_id) table, as PostgreSQL has: that
-- table took 12 bytes per posting (1.1 KB per order on the Boston data, 2.4 times
-- the orders themselves) and its B-tree rows, one per posting spread over the whole
-- index, dirtied hundreds of pages per commit: durable creates fell from 2,913/s to
-- 1,198/s.  FTS5 writes one segment per batch and keeps postings compressed.
-- Contentless with detail=none: only which orders hold a bigram is kept.  The
-- work-order module keeps it at the end of each commit batch, from the pending
-- table of 0003 (the orders the batch changed), like the trigram index.
CREATE VIRTUAL TABLE work_orders_bigrams USING fts5(
	grams, content='', columnsize=0, detail='none', tokenize='ascii');

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
