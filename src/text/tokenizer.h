/* tokenizer.h -- text <-> token ids, exactly as Hugging Face `tokenizers` does it for Gemma.
 *
 * Two sources:
 *   - a Hugging Face tokenizer.json (Gemma 3/4 layout: normalizer Replace " " -> "▁",
 *     pre-tokenizer Split, model BPE with byte_fallback, decoder Replace/ByteFallback/Fuse
 *     [/Strip]).  Every component is read and honoured; a component or option we do not
 *     implement is refused with G4_EUNSUPPORTED naming it, never silently ignored.
 *   - GGUF metadata (llama.cpp): tokenizer.ggml.model "gemma4" (BPE with merges, as above)
 *     or "llama" (SentencePiece: merge the adjacent pair whose result has the highest
 *     score, as llama.cpp does for Gemma 3 GGUFs).  CONTROL/UNKNOWN tokens become special
 *     added tokens, USER_DEFINED ones plain added tokens.
 *
 * Encoding follows HF's TokenizerImpl::encode(text, add_special_tokens=false): added tokens
 * are cut out first (leftmost-longest, honouring special/normalized/lstrip/rstrip/
 * single_word), the rest is normalized, pre-tokenized and BPE-merged by merge rank with
 * byte fallback.  No BOS is added (Gemma's chat template writes <bos> itself).
 * parse_special = 0 is HF's `encode_special_tokens = True`: added tokens flagged special
 * are then treated as plain text; non-special added tokens are still matched.
 *
 * Decoding equals HF decode(): ids -> token strings -> decoder chain.  Ids outside
 * [0, n_vocab) are dropped like HF drops them.  Byte-fallback runs that are not valid UTF-8
 * become one U+FFFD per byte (HF's ByteFallback rule).
 *
 * A g4_tokenizer is immutable after load: share it between threads.
 */
#ifndef G4_TOKENIZER_H
#define G4_TOKENIZER_H

#include <stddef.h>

#include "../core/common.h"
#include "../model/gguf.h"

typedef struct g4_tokenizer g4_tokenizer;

/* Gemma 4 special tokens by name (spec §5); look them up with g4_tok_find. */
#define G4_TOK_PAD "<pad>"
#define G4_TOK_EOS "<eos>"
#define G4_TOK_BOS "<bos>"
#define G4_TOK_UNK "<unk>"
#define G4_TOK_TURN_START "<|turn>"
#define G4_TOK_TURN_END "<turn|>"
#define G4_TOK_THINK "<|think|>"
#define G4_TOK_CHANNEL_START "<|channel>"
#define G4_TOK_CHANNEL_END "<channel|>"
#define G4_TOK_TOOL_START "<|tool>"
#define G4_TOK_TOOL_END "<tool|>"
#define G4_TOK_TOOL_CALL_START "<|tool_call>"
#define G4_TOK_TOOL_CALL_END "<tool_call|>"
#define G4_TOK_TOOL_RESPONSE_START "<|tool_response>"
#define G4_TOK_TOOL_RESPONSE_END "<tool_response|>"
#define G4_TOK_STRING_QUOTE "<|\"|>"
#define G4_TOK_IMAGE_START "<|image>"
#define G4_TOK_IMAGE_END "<image|>"
#define G4_TOK_IMAGE "<|image|>"
#define G4_TOK_AUDIO_START "<|audio>"
#define G4_TOK_AUDIO_END "<audio|>"
#define G4_TOK_AUDIO "<|audio|>"
#define G4_TOK_VIDEO "<|video|>"

/* Load a tokenizer.json file.  Errors: G4_EIO (open/read), G4_EFORMAT (bad JSON or
 * inconsistent vocab/merges), G4_EUNSUPPORTED (a component we do not implement), G4_ENOMEM. */
g4_status g4_tokenizer_load_hf(g4_tokenizer **out, const char *path, char *err);
/* Same from bytes in memory (not kept); name is used in messages.  For tests and fuzzing. */
g4_status g4_tokenizer_load_hf_mem(g4_tokenizer **out, const char *json, size_t len, const char *name,
                                   char *err);
/* Load from an open GGUF's tokenizer.ggml.* keys (the g4_gguf may be closed afterwards). */
g4_status g4_tokenizer_load_gguf(g4_tokenizer **out, const g4_gguf *f, char *err);
void g4_tokenizer_free(g4_tokenizer *t); /* NULL is fine */
/* The model's own tokenizer (its GGUF vocabulary or the HF directory's tokenizer.json); *out NULL and
 * G4_OK when it has none (tok_model.c). */
struct g4_model;
g4_status g4_tokenizer_load_model(const struct g4_model *m, g4_tokenizer **out, char *err);
/* Store t as GGUF tokenizer.ggml.* keys the way llama.cpp's gemma4 converter does (model
 * "gemma4", tokens, scores, token_type, merges, unknown_token_id, add_bos_token,
 * add_space_prefix; not bos/eos/padding ids).  n_vocab: the model's id count (ids past the
 * tokenizer's become "[PAD<id>]", UNUSED); 0 = the tokenizer's.  BPE only (G4_EUNSUPPORTED
 * otherwise); G4_EFORMAT if the tokenizer has more ids than n_vocab; G4_ENOMEM. */
g4_status g4_tokenizer_write_gguf(const g4_tokenizer *t, g4_gguf_writer *w, int n_vocab, char *err);

/* Number of ids: model vocab plus added tokens outside it (HF get_vocab_size(True)). */
int g4_tokenizer_n_vocab(const g4_tokenizer *t);
/* The token's string (HF id_to_token: an added token's content -- normalized if the token is
 * a normalized one --, else the vocab entry; "▁" for spaces, "<0xXX>" for byte tokens).  NULL
 * if the id has no token.  NUL-terminated, but a GGUF token may hold NUL bytes: use *len. */
const char *g4_tokenizer_token_text(const g4_tokenizer *t, int id, size_t *len);
/* Id of a token string (added tokens first, then the vocab, like HF token_to_id); -1 if none. */
int g4_tokenizer_find(const g4_tokenizer *t, const char *text, size_t len);
int g4_tok_find(const g4_tokenizer *t, const char *text); /* NUL-terminated convenience */
/* 1 if id is an added token flagged special (skipped by decode with skip_special). */
int g4_tokenizer_is_special(const g4_tokenizer *t, int id);

/* text[0..len) must be valid UTF-8 (else G4_EINVAL naming the byte offset).  On success
 * *ids is a g4_malloc'ed array of *n ids (the caller g4_free's it; NULL when *n == 0). */
g4_status g4_tokenizer_encode(const g4_tokenizer *t, const char *text, size_t len, int **ids, int *n,
                              int parse_special, char *err);

/* HF decode(ids, skip_special_tokens): *text is g4_malloc'ed, NUL-terminated, *len bytes
 * (len may be NULL).  Only fails with G4_ENOMEM or G4_EINVAL (n < 0, NULL pointers). */
g4_status g4_tokenizer_decode(const g4_tokenizer *t, const int *ids, int n, int skip_special, char **text,
                              size_t *len, char *err);

/* Offset of the first invalid byte of s[0..n), or n if it is all valid UTF-8 (strict). */
size_t g4_utf8_check(const char *s, size_t n);

/* The bytes token id adds to decoded text in mid-stream (Replace decoder steps applied; a byte-fallback
 * token is its one raw byte, which may be part of a UTF-8 character; no Strip).  *len = 0 and NULL for
 * an id with no string or out of range.  Points into t. */
const char *g4_tokenizer_piece(const g4_tokenizer *t, int id, size_t *len, unsigned char *byte);

/* Streaming decoder for generation: feed one id at a time, get the bytes that are final.
 * It never emits part of a UTF-8 character: byte-fallback bytes are held until they complete
 * one; a held sequence that cannot complete becomes one U+FFFD per byte (as HF does).  The
 * concatenated output equals g4_tokenizer_decode of the same ids whenever every run of
 * byte-fallback tokens is valid UTF-8 (always so for text the tokenizer produced); for runs
 * that are not, HF replaces the whole run while the stream has already emitted the valid
 * characters before the bad byte.  Plain struct: no allocation, nothing to free. */
typedef struct {
    const g4_tokenizer *tok;
    int skip_special;
    int n_pend;              /* held bytes of an incomplete UTF-8 character */
    unsigned char pend[4];
    int strip_left;          /* leading Strip-decoder characters still to drop */
    int any;                 /* a token was emitted (no-decoder mode joins with " ") */
} g4_tok_stream;

/* skip_special: 0 shows every token; 1 hides special ones (HF's skip_special_tokens); G4_TOK_SKIP_CONTROL
 * hides them except those llama.cpp always renders (<|tool_call>, <|channel>, <|"|>, ...), so raw text
 * reads the same whether the model came from its HF directory or from its GGUF. */
#define G4_TOK_SKIP_CONTROL 2
void g4_tok_stream_init(g4_tok_stream *s, const g4_tokenizer *t, int skip_special);
/* Bytes an output buffer needs for one put or flush (never more). */
size_t g4_tok_stream_bufsize(const g4_tokenizer *t);
/* Decode one id into out (g4_tok_stream_bufsize bytes); returns the bytes written (no NUL). */
size_t g4_tok_stream_put(g4_tok_stream *s, int id, char *out);
/* End of stream: emits U+FFFD for any held bytes; returns the bytes written. */
size_t g4_tok_stream_flush(g4_tok_stream *s, char *out);

#endif
