/* json_constrain.h -- constrained generation of one JSON object (OpenAI's response_format
 * json_object): a byte-level recogniser of the prefixes of a JSON object (RFC 8259, strict UTF-8),
 * the shortest text that closes whatever is open, and the per-step mask over the vocabulary.
 *
 * The mask allows a token when its bytes keep the text a prefix of some JSON object; once the
 * object is closed only the stop ids are allowed.  When the token budget gets as short as the
 * closing text, only tokens that are a prefix of the closing text are allowed, so the output
 * parses even when it has to be cut short (as long as the vocabulary has the single-byte tokens
 * of  " : 0 } ] a e l r s u  and the budget is at least the closing text plus one stop token).
 * Whitespace runs are capped at G4_JSONC_MAX_WS bytes and nesting at G4_JSONC_MAX_DEPTH, so a
 * model cannot pad forever or nest past what the closing budget covers.
 */
#ifndef G4_JSON_CONSTRAIN_H
#define G4_JSON_CONSTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/common.h"
#include "tokenizer.h"

#define G4_JSONC_MAX_DEPTH 32
#define G4_JSONC_MAX_WS 16

typedef struct {
    uint8_t st;          /* where in the grammar (json_constrain.c) */
    uint8_t depth;       /* open containers */
    uint8_t ws;          /* whitespace bytes in a row */
    uint8_t key;         /* the open string is an object key */
    uint8_t aux;         /* literal: bytes matched; \u escape: hex digits left */
    uint8_t lit;         /* which literal: 0 true, 1 false, 2 null */
    uint8_t u8need;      /* continuation bytes still due in a UTF-8 character */
    uint8_t u8lo, u8hi;  /* the range the next continuation byte must be in */
    char stack[G4_JSONC_MAX_DEPTH]; /* '{' or '[' */
} g4_jsonc;

/* Longest closing text: a \u escape, a key, ":0" and a closer per level. */
#define G4_JSONC_MAX_CLOSE (G4_JSONC_MAX_DEPTH + 16)

void g4_jsonc_init(g4_jsonc *s);
/* As if the opening '{' was read already (tool-call arguments after a forced "call:NAME{"). */
void g4_jsonc_init_in_object(g4_jsonc *s);
/* Feed bytes: 1 if every byte was accepted (s advanced), 0 if one was not (s is then garbage:
 * feed a copy to test). */
int g4_jsonc_feed(g4_jsonc *s, const char *p, size_t n);
int g4_jsonc_done(const g4_jsonc *s); /* the object is complete */
/* The shortest bytes that complete the object from s (at most G4_JSONC_MAX_CLOSE; "" when done). */
size_t g4_jsonc_closing(const g4_jsonc *s, char *out);

/* Every token's bytes, looked up once per model (the mask runs over the whole vocabulary). */
typedef struct {
    int n_vocab;
    uint32_t *off, *len; /* len UINT32_MAX: special or no text (never allowed in JSON) */
    char *bytes;
} g4_vocab_pieces;

g4_status g4_vocab_pieces_build(g4_vocab_pieces *vp, const g4_tokenizer *t, char *err);
void g4_vocab_pieces_free(g4_vocab_pieces *vp);

/* Set logits[v] = -INFINITY for every token that may not come next from s; stop_ids (the first 16
 * of n_stop) are the only tokens allowed once s is done (a stop id at -inf then gets 0), and never
 * before.  budget: tokens left
 * including the stop token (<= 0: no limit). */
void g4_jsonc_mask(const g4_jsonc *s, const g4_vocab_pieces *vp, const int *stop_ids, int n_stop, int budget,
                   float *logits);

#endif
