/* units.h - the unit tree (district, subdistrict, community, compound, building,
 * grid) that every scoped row hangs from. */
#ifndef GZ_UNITS_H
#define GZ_UNITS_H
#include "http/http.h"
extern const struct gz_module gz_units_module;
extern const struct gz_entity gz_unit_entity;
extern const struct gz_module gz_orgs_module;
extern const struct gz_entity gz_org_entity;
extern const struct gz_module gz_dicts_module;
extern const struct gz_entity gz_dict_entity;
extern const struct gz_module gz_calendar_module;
extern const struct gz_module gz_ops_module;
#endif
