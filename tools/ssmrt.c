/* ssmrt: command line front end. Dispatches to the subcommands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ssmrt.h"

typedef struct tool_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} tool_command;

static const tool_command tool_commands[] = {
    {"devices", ssmrt_cmd_devices, "list plugins found, their status and their devices"},
    {"conformance", ssmrt_cmd_conformance, "check every op on a device against the float64 reference"},
    {"run", ssmrt_cmd_run, "generate tokens with a model"},
    {"eval", ssmrt_cmd_eval, "compute logits for input ids from a safetensors file"},
    {"bench", ssmrt_cmd_bench, "benchmark ops, models and scaling"},
    {NULL, NULL, NULL},
};

static void tool_usage(FILE *f)
{
    fprintf(f, "usage: ssmrt <command> [options]   (ssmrt <command> --help for details)\n\n");
    for (size_t i = 0; tool_commands[i].name; i++)
        fprintf(f, "  %-12s %s\n", tool_commands[i].name, tool_commands[i].summary);
    fprintf(f, "\nenvironment: SSMRT_BACKEND (cpu|cuda|vulkan|opencl|auto or a comma list),\n"
               "  SSMRT_DEVICE, SSMRT_PLUGIN_PATH, SSMRT_LOG (error|warn|info|debug)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        tool_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        tool_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("ssmrt %d.%d.%d\n", SSMRT_VERSION_MAJOR, SSMRT_VERSION_MINOR, SSMRT_VERSION_PATCH);
        return 0;
    }
    for (size_t i = 0; tool_commands[i].name; i++)
        if (!strcmp(argv[1], tool_commands[i].name))
            return tool_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ssmrt: unknown command '%s'\n\n", argv[1]);
    tool_usage(stderr);
    return 2;
}
