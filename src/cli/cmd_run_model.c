/* cmd_run_model.c — `pasalista run-model`: placeholder until the engine lands. */
#include "cli/cli.h"

int cmd_run_model(int argc, char **argv)
{
    (void)argc; (void)argv;
    cli_error("run-model: not built yet");
    return EXIT_FAILED;
}
