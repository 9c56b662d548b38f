/* demo.h - seeding: the dictionaries and calendar every new database gets (init),
 * and the demo district of the source report (gongzhi demo). */
#ifndef GZ_DEMO_H
#define GZ_DEMO_H
#include "app.h"

/* Dictionaries and the holiday calendar; idempotent. */
int gz_seed_base(struct gz_app *app, struct gz_err *err);
/* The demo: units, organisations, one account per role.  Prints the accounts. */
int gz_seed_demo(struct gz_app *app, struct gz_err *err);

#endif
