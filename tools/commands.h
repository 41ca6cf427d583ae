/* The ssmrt tool's subcommands. Each lives in cmd_<name>.c and is listed in the table
 * of ssmrt.c. A subcommand returns the process exit status and prints its own
 * --help. */
#ifndef SSMRT_TOOL_COMMANDS_H
#define SSMRT_TOOL_COMMANDS_H

int ssmrt_cmd_devices(int argc, char **argv);
int ssmrt_cmd_conformance(int argc, char **argv);
int ssmrt_cmd_run(int argc, char **argv);
int ssmrt_cmd_eval(int argc, char **argv);
int ssmrt_cmd_bench(int argc, char **argv);

#endif
