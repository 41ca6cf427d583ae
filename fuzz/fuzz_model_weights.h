/* The tensor list a model of given hyperparameters loads (names and shapes as
 * core/src/model/ loads them), for fuzz_model, which writes random weights of that
 * list next to a fuzzed config.json. Sizes are counted with overflow checks, so a
 * config with huge dimensions is refused before anything is allocated. */
#ifndef SSMRT_FUZZ_MODEL_WEIGHTS_H
#define SSMRT_FUZZ_MODEL_WEIGHTS_H

#include <stdint.h>

#include "model/hparams.h"
#include "ssmrt_safetensors.h"

typedef struct fuzz_wlist {
    ssmrt_st_tensor *t;  /* names malloc'd; data and dtype left for the caller */
    uint32_t n, cap;
    uint64_t elems;      /* total elements (saturating) */
    uint64_t max_elems;  /* largest tensor */
    int failed;          /* out of memory, or a count over the caps below */
} fuzz_wlist;

/* Caps: a list past either is abandoned (failed = 1) as soon as it is known. */
#define FUZZ_MAX_ELEMS (256u * 1024u) /* 1 MiB of f32 weights */
#define FUZZ_MAX_TENSORS 1024u

void fuzz_wlist_build(fuzz_wlist *l, const ssmrt__hparams *hp);
void fuzz_wlist_free(fuzz_wlist *l);

#endif
