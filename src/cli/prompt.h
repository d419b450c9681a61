/* prompt.h -- turn what the user typed into token ids, and generated ids back into text, for the CLI.
 *
 * The model's tokenizer comes from the GGUF's tokenizer.ggml.* keys or the HF directory's tokenizer.json.
 * Text prompts are wrapped in the model's chat format unless raw: Gemma 4 through the chat renderer
 * (src/text/chat.c, byte-identical to the jinja template), Gemma 3 with its <start_of_turn> turns. */
#ifndef G4_CLI_PROMPT_H
#define G4_CLI_PROMPT_H

#include "media/mm.h"
#include "model/model.h"
#include "text/tokenizer.h"

/* NULL tokenizer and G4_OK when the model has none (e.g. converted from a directory without one). */
g4_status cli_load_tokenizer(const g4_model *m, g4_tokenizer **out, char *err);

typedef struct {
    const char *system; /* NULL = none */
    int think;          /* Gemma 4: enable_thinking */
    int raw;            /* no chat format: <bos> + text */
    const struct cJSON *tools; /* Gemma 4: a JSON array of OpenAI tool declarations, or NULL */
    g4_mm_item *items; /* images, audio, video in the order given; reordered to prompt order */
    int n_items;
} cli_prompt_opts;

/* ids (malloc'd) for text under opts.  Media items go where the text has markers <image>, <audio>,
 * <video> (each takes the next item of its kind), the rest before the text, in the order given; each
 * becomes a content part of the user turn, and its placeholder is expanded as the processor does.
 * o->items are put in the order their placeholders take in the prompt (which g4_mm_eval needs). */
g4_status cli_encode_prompt(const g4_model *m, const g4_tokenizer *t, const char *text, const cli_prompt_opts *o,
                            int **ids, int *n, char *err);

#endif
