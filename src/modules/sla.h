/* sla.h - deadlines of work orders: SLA rules by category (longest code prefix wins)
 * and priority give the accept deadline in hours and the resolve deadline in working
 * days of the holiday calendar. */
#ifndef GZ_SLA_H
#define GZ_SLA_H
#include "db/db.h"
#include "http/http.h"

/* The rule for (category, priority): accept hours and resolve working days. */
int gz_sla_rule(struct gz_conn *c, const char *category, const char *priority,
                int64_t *accept_hours, int64_t *resolve_workdays, struct gz_err *err);
/* The n-th working day after day (days since the epoch, Shanghai). */
int gz_workdays_after(struct gz_conn *c, int64_t day, int64_t n, int64_t *out, struct gz_err *err);
/* Deadlines of an order created at created_ms: accept_due = created + hours;
 * resolve_due = the end (24:00 Shanghai) of the n-th working day after creation. */
int gz_sla_deadlines(struct gz_conn *c, const char *category, const char *priority,
                     int64_t created_ms, int64_t *accept_due, int64_t *resolve_due,
                     struct gz_err *err);
/* Moves a resolve deadline by n more working days. */
int gz_sla_extend(struct gz_conn *c, int64_t resolve_due, int64_t n, int64_t *out,
                  struct gz_err *err);

/* Orders escalated by the SLA scanner since start (for /metrics). */
long long gz_sla_escalations(void);

extern const struct gz_module gz_sla_module;

#endif
