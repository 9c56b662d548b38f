/* main.c - gongzhi's entry point: everything is a command (see cli/commands.c). */
#include "cli/commands.h"

int main(int argc, char **argv)
{
	return gz_cli_main(argc, argv);
}
