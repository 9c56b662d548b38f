/* units.h - the unit tree (district, subdistrict, community, compound, building,
 * grid) that every scoped row hangs from. */
#ifndef GZ_UNITS_H
#define GZ_UNITS_H
#include "db/db.h"
#include "http/http.h"
#include <stddef.h>
#include <stdint.h>
extern const struct gz_module gz_units_module;
extern const struct gz_entity gz_unit_entity;
extern const struct gz_module gz_orgs_module;
extern const struct gz_entity gz_org_entity;
extern const struct gz_module gz_dicts_module;
extern const struct gz_entity gz_dict_entity;
extern const struct gz_module gz_calendar_module;
extern const struct gz_module gz_ops_module;
extern const struct gz_module gz_notices_module; /* notices.c: community notices */
/* users.c: accounts (an entity standing on units and organisations, so a module:
 * src/auth keeps identity, sessions, scope and audit) and api_keys.c: their keys */
extern const struct gz_entity gz_user_entity;
extern const struct gz_module gz_users_module;
extern const struct gz_module gz_api_keys_module;
/* The unit's path and kind, and the community and subdistrict above it or itself (0
 * when none); a missing unit is a 400 naming unit_id. */
int gz_unit_place(struct gz_conn *c, int64_t unit_id, char *path, size_t n, int64_t *community,
                  int64_t *subdistrict, char *kind, size_t kn, struct gz_err *err);
#endif
