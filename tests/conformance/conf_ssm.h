/* Selective-scan inputs shared by the scan cases and the chunked-prefill identity:
 * realistic Mamba-1 / Mamba-2 parameter distributions and the memory length that
 * sets the scan's tolerance. */
#ifndef CONF_SSM_H
#define CONF_SSM_H

#include "conf_suite.h"

/* Input slots of a scan case (as ssmrt_graph_selective_scan takes them). */
enum {
    CONF_SCAN_U = 0, CONF_SCAN_DELTA, CONF_SCAN_A, CONF_SCAN_B, CONF_SCAN_C, CONF_SCAN_D,
    CONF_SCAN_Z, CONF_SCAN_DBIAS, CONF_SCAN_STATE, CONF_SCAN_NSLOTS
};

typedef struct conf_scan_dims {
    int64_t b, l, h, p, g, n;
    int mamba2;          /* A is [H] (else [H, N] and p == 1) */
} conf_scan_dims;

typedef struct conf_scan_opts {
    int d, z, dbias, softplus, state_in, state_out;
    int alias;           /* state_out is the same tensor as state (in place) */
    int long_memory;     /* dt around 0.002: memory of hundreds of steps */
} conf_scan_opts;

/* Fills the scan slots of c (absent options left NULL). dt = softplus(delta +
 * bias) lands in about [0.01, 0.15] (Mamba's dt_min..dt_max init), or near 0.002
 * with long_memory; A = -(n+1) jittered (Mamba-1's S4D-real init) or -U[1, 16]
 * per head (Mamba-2). */
void conf_scan_fill(conf_rng *r, conf_case *c, const conf_scan_dims *d,
                    const conf_scan_opts *o);

/* The memory length of the scan on c's inputs: min(L, 1 / min over (h, n) of the
 * mean over (b, l) of dt * |A|), the number of steps over which a state error
 * survives (see conf_tol_scan). */
double conf_scan_memory(const conf_case *c, const conf_scan_dims *d, const conf_scan_opts *o);

/* "B=2 L=17 D=5 N=16 D-skip z bias softplus state-in state-out" into buf. */
const char *conf_scan_describe(const conf_scan_dims *d, const conf_scan_opts *o, char *buf,
                               size_t n);

/* Shapes. */
void conf_scan_state_shape(const conf_scan_dims *d, int64_t shape[4]);

#endif
