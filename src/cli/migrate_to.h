/* migrate_to.h - copying a SQLite database into an empty PostgreSQL one. */
#ifndef GZ_MIGRATE_TO_H
#define GZ_MIGRATE_TO_H
#include "db/db.h"

/* Copies every table of src (SQLite, at the latest schema) into the database at url
 * (PostgreSQL; created when missing, must be empty), with a progress line on stderr,
 * checks the row counts and the audit chain on the target, and writes the target's audit
 * head checkpoint to head_path. */
int gz_migrate_to(struct gz_db *src, const char *url, const char *head_path, struct gz_err *err);

#endif
