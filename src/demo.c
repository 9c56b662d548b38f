/* demo.c - loads the seed tables of modules/seed_data.c.  Base data is written
 * directly (it is reference data shipped with the program); the demo goes through
 * the entity layer like any client would, so it is validated and audited. */
#include "demo.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "model/entity.h"
#include "modules/seed_data.h"
#include "modules/units.h"
#include "modules/work_order.h"
#include <stdio.h>
#include <string.h>

static int base_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	int64_t now = gz_now_ms();
	for (size_t i = 0; i < gz_seed_dicts_count; i++) {
		const struct gz_seed_dict *d = &gz_seed_dicts[i];
		if (gz_exec_args(
		        c, err,
		        "INSERT INTO dict_entries (type, code, name, name_en, parent_code, "
		        "sort, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
		        "ON CONFLICT (type, code) DO NOTHING",
		        "tttttiii", d->type, d->code, d->name, d->name_en, d->parent_code,
		        (int64_t)d->sort, now, now))
			return -1;
	}
	for (size_t i = 0; i < gz_seed_calendar_count; i++) {
		const struct gz_seed_day *d = &gz_seed_calendar[i];
		int64_t day;
		if (!gz_date_parse(d->date, &day))
			return gz_fail(err, GZ_E_INTERNAL, "bad seed date %s", d->date);
		if (gz_exec_args(c, err,
		                 "INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, ?) "
		                 "ON CONFLICT (day) DO NOTHING",
		                 "itt", day, d->kind, d->note))
			return -1;
	}
	struct gz_audit a = {NULL, "seed", "dictionaries", 0, "{\"source\":\"built-in\"}", "cli"};
	return gz_audit_append(c, &a, err);
}

int gz_seed_base(struct gz_app *app, struct gz_err *err)
{
	return gz_db_write(app->db, base_fn, NULL, err);
}

static int64_t find_id(struct gz_app *app, const char *sql, const char *text)
{
	struct gz_conn *c = gz_db_reader(app->db);
	struct gz_err e;
	int64_t id = 0;
	if (gz_query_i64(c, &e, &id, sql, "t", text) != 1)
		id = 0;
	gz_db_reader_done(app->db, c);
	return id;
}

static int64_t unit_id_of(struct gz_app *app, int64_t *ids, const char *key)
{
	if (!key)
		return 0;
	for (size_t i = 0; i < gz_demo_units_count; i++)
		if (strcmp(gz_demo_units[i].key, key) == 0)
			return ids[i];
	return 0;
	(void)app;
}

static void set_opt_str(json_t *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_set_new(o, k, json_string(v));
}

int gz_seed_demo(struct gz_app *app, struct gz_err *err)
{
	if (find_id(app, "SELECT id FROM units WHERE code = ?", "120102"))
		return gz_fail(err, GZ_E_CONFLICT, "the demo data is already loaded");
	int64_t ids[512] = {0};
	if (gz_demo_units_count > 512)
		return gz_fail(err, GZ_E_INTERNAL, "too many demo units");
	for (size_t i = 0; i < gz_demo_units_count; i++) {
		const struct gz_seed_unit *u = &gz_demo_units[i];
		json_t *o =
		    json_pack("{s:s,s:s,s:i}", "kind", u->kind, "name", u->name, "sort", (int)i);
		set_opt_str(o, "code", u->code);
		if (u->parent_key)
			json_object_set_new(o, "parent_id",
			                    json_integer(unit_id_of(app, ids, u->parent_key)));
		if (u->lat != 0 || u->lng != 0) {
			json_object_set_new(o, "lat", json_real(u->lat));
			json_object_set_new(o, "lng", json_real(u->lng));
		}
		int rc = gz_entity_create_json(app, &gz_unit_entity, NULL, o, &ids[i], err);
		json_decref(o);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < gz_demo_orgs_count; i++) {
		const struct gz_seed_org *g = &gz_demo_orgs[i];
		json_t *o = json_pack("{s:s,s:s}", "kind", g->kind, "name", g->name);
		set_opt_str(o, "credit_code", g->credit_code);
		set_opt_str(o, "contact_name", g->contact_name);
		set_opt_str(o, "contact_phone", g->contact_phone);
		set_opt_str(o, "address", g->address);
		set_opt_str(o, "description", g->description);
		int64_t uid = unit_id_of(app, ids, g->unit_key);
		if (uid)
			json_object_set_new(o, "unit_id", json_integer(uid));
		int rc = gz_entity_create_json(app, &gz_org_entity, NULL, o, NULL, err);
		json_decref(o);
		if (rc)
			return -1;
	}
	printf("Demo accounts (username / password / role / unit):\n");
	for (size_t i = 0; i < gz_demo_users_count; i++) {
		const struct gz_seed_user *u = &gz_demo_users[i];
		json_t *o =
		    json_pack("{s:s,s:s,s:s,s:[s]}", "username", u->username, "display_name",
		              u->display_name, "password", u->password, "roles", u->role);
		int64_t uid = unit_id_of(app, ids, u->unit_key);
		if (uid)
			json_object_set_new(o, "unit_id", json_integer(uid));
		if (u->org_name) {
			int64_t oid =
			    find_id(app, "SELECT id FROM orgs WHERE name = ?", u->org_name);
			json_object_set_new(o, "org_id", json_integer(oid));
		}
		int rc = gz_entity_create_json(app, &gz_user_entity, NULL, o, NULL, err);
		json_decref(o);
		if (rc)
			return -1;
		printf("  %-10s %s  %-18s %s\n", u->username, u->password, u->role,
		       u->unit_key ? u->unit_key : "");
	}
	int orders = gz_work_orders_demo(app, 365, 14, err);
	if (orders < 0)
		return -1;
	printf("Work orders: %d over the last year\n", orders);
	return 0;
}
