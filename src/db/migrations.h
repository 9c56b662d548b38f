/* migrations.h - numbered SQL migrations per backend, embedded at build time from
 * src/db/migrations/<backend>/NNNN_name.sql by scripts/embed-migrations. */
#ifndef GZ_MIGRATIONS_H
#define GZ_MIGRATIONS_H
#include <stddef.h>

struct gz_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct gz_migration gz_migrations_sqlite[];
extern const size_t gz_migrations_sqlite_count;
extern const struct gz_migration gz_migrations_pgsql[];
extern const size_t gz_migrations_pgsql_count;

#endif
