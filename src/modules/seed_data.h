/* seed_data.h - static, read-only tables of seed and demo data.
 *
 * gz_seed_dicts and gz_seed_calendar are loaded into every new database (dictionaries
 * with parents before children; the official 2026 holiday schedule).  The gz_demo_*
 * tables (units, organisations, accounts) are loaded only by `gongzhi demo`; they
 * follow the Hedong district report in seed/.  Units refer to their parent by key
 * and always come after it; organisations and accounts refer to units by key and
 * accounts to organisations by name.  The tables hold data only, no logic. */
#ifndef GZ_SEED_DATA_H
#define GZ_SEED_DATA_H
#include <stddef.h>
struct gz_seed_dict {
	const char *type, *code, *name, *name_en, *parent_code;
	int sort;
};
struct gz_seed_day {
	const char *date;
	const char *kind;
	const char *note;
}; /* kind: "holiday" | "workday" */
struct gz_seed_unit {
	const char *key, *parent_key, *kind, *name, *code;
	double lat, lng;
};
struct gz_seed_org {
	const char *kind, *name, *unit_key, *credit_code, *contact_name, *contact_phone, *address,
	    *description;
};
struct gz_seed_user {
	const char *username, *display_name, *role, *unit_key, *org_name, *password;
};
extern const struct gz_seed_dict gz_seed_dicts[];
extern const size_t gz_seed_dicts_count;
extern const struct gz_seed_day gz_seed_calendar[];
extern const size_t gz_seed_calendar_count;
extern const struct gz_seed_unit gz_demo_units[];
extern const size_t gz_demo_units_count;
extern const struct gz_seed_org gz_demo_orgs[];
extern const size_t gz_demo_orgs_count;
extern const struct gz_seed_user gz_demo_users[];
extern const size_t gz_demo_users_count;
#endif
