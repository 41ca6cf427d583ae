/* A tiny Mamba-1 model folder with random weights, written at test time, for tests
 * whose cost is per step (a million decode steps): hidden 16, 2 layers, vocab 32,
 * state 16. Initialised as Mamba is (A = -1..-16, dt in [0.001, 0.1] through the
 * inverse softplus of dt_proj.bias, D = 1, norms 1; matrices uniform +-0.1), so the
 * recurrence has the decay of a trained model. */
#ifndef SSMRT_REL_TINY_MODEL_H
#define SSMRT_REL_TINY_MODEL_H

/* Writes config.json and model.safetensors into the existing directory dir.
 * 0 on success; 1 on failure (printed). */
int rel_tiny_model_write(const char *dir);

#endif
