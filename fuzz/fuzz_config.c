/*
 * libFuzzer target: the config.json reader (core/src/model/config.c) and the
 * hyperparameter checks built on it (core/src/model/hparams.c), on arbitrary text.
 * Every outcome is fine except a crash, a sanitizer report, a leak, or a failure
 * without a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/config.h"
#include "model/hparams.h"
#include "ssmrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_config: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssmrt__cfg cfg;
    ssmrt_status s = ssmrt__cfg_parse((const char *)data, size, "config.json", &cfg);
    if (s != SSMRT_OK) {
        must(ssmrt_last_error()[0] != '\0', "a parse failure has a message");
        return 0;
    }
    ssmrt__hparams *hp = calloc(1, sizeof *hp); /* large: per-layer tables */
    s = ssmrt__hparams_read(&cfg, hp);
    if (s != SSMRT_OK)
        must(ssmrt_last_error()[0] != '\0', "a rejected config has a message");
    else
        must(hp->n_layers > 0 && hp->n_layers <= SSMRT__MAX_LAYERS && hp->hidden > 0 &&
                 hp->n_vocab >= hp->vocab_size,
             "accepted hyperparameters are sane");
    free(hp);
    ssmrt__cfg_close(&cfg);
    return 0;
}
