/* commands.h - the command line: one table of commands, each with its usage, its
 * own options, and a function; global settings (--db, --listen, …) are accepted by
 * every command and also come from gongzhi.conf and GONGZHI_* variables. */
#ifndef GZ_COMMANDS_H
#define GZ_COMMANDS_H

/* Runs the command line; returns the exit status (0 ok, 1 failure, 2 usage). */
int gz_cli_main(int argc, char **argv);

#endif
