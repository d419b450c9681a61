/* textout.h -- stream generated tokens to the terminal as text.
 *
 * Tokens are decoded without ever splitting a UTF-8 character, checked against --stop strings (text
 * that could still become a stop string is held back), and for Gemma 4 chat output run through the
 * chat stream parser: the thought channel is shown dimmed on a terminal (dropped when stdout is not
 * one) and tool calls are printed as `[tool call] NAME {json arguments}`. */
#ifndef G4_CLI_TEXTOUT_H
#define G4_CLI_TEXTOUT_H

#include <stddef.h>

#include "text/chat.h"
#include "text/tokenizer.h"

typedef struct {
    const g4_tokenizer *tok;   /* NULL: not in use */
    g4_tok_stream ts;
    char *tsbuf;
    g4_chat_stream *cs;        /* Gemma 4 chat parsing, or NULL for plain text */
    const char **stops;
    int n_stops;
    size_t max_stop;
    char *gen;                 /* everything decoded so far */
    size_t len, cap, emitted;
    int tty, dim;
} text_out;

g4_status text_out_init(text_out *o, const g4_tokenizer *t, int chat, const char **stops, int n_stops, char *err);
/* Returns 1 when a stop string was reached (the output then ends before it). */
int text_out_put(text_out *o, int id);
void text_out_finish(text_out *o);
void text_out_free(text_out *o);

#endif
