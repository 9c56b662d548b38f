/* calendar.h - working days: weekends off, plus holidays, minus make-up working
 * days (调休), from the table the admin maintains. */
#ifndef GZ_CALENDAR_H
#define GZ_CALENDAR_H
#include "db/db.h"
#include <stdbool.h>

/* Is the day (days since the epoch) a working day?  -1 on error. */
int gz_calendar_is_workday(struct gz_conn *c, int64_t day, struct gz_err *err);

#endif
