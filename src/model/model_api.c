/* model_api.c -- small accessors of the public API (include/gemma4.h) over g4_model. */
#include "model.h"

int g4_model_n_vocab(const g4_model *m) { return m->cfg.n_vocab; }
int g4_model_n_ctx_train(const g4_model *m) { return m->cfg.n_ctx_train; }

int g4_model_is_stop(const g4_model *m, int token) {
    for (int i = 0; i < m->cfg.n_eos; i++)
        if (m->cfg.eos_ids[i] == token) return 1;
    return 0;
}
