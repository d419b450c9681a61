/* tok_internal.h -- the g4_tokenizer struct and the helpers its files share.
 *
 * Layout: every token string lives in one pool (text[id] = pool + off[id], len[id]).  A
 * string -> id hash covers the model vocab; a byte trie covers the added tokens (for the
 * leftmost-longest split and for exact lookups).  Merges are a hash from the pair of ids to
 * (rank, merged id).  The normalizer, pre-tokenizer and decoder are small step lists read
 * from tokenizer.json (or synthesised for GGUF).  Loaders fill the struct through the
 * helpers in tokenizer.c; g4_tok_finish then builds the tries and the decoder's pieces.
 */
#ifndef G4_TOK_INTERNAL_H
#define G4_TOK_INTERNAL_H

#include <stdint.h>

#include "tokenizer.h"

#define TOK_NOSTR UINT32_MAX /* off[] of an id without a token */

enum { TOK_MODEL_BPE, TOK_MODEL_SPM };
enum { TOK_NORM_REPLACE, TOK_NORM_PREPEND };
enum { TOK_SPLIT_REMOVED, TOK_SPLIT_ISOLATED, TOK_SPLIT_MERGED_PREV, TOK_SPLIT_MERGED_NEXT, TOK_SPLIT_CONTIGUOUS };

typedef struct {
    int kind;          /* TOK_NORM_* */
    char *pat, *rep;   /* Replace pat -> rep; Prepend rep */
    size_t pat_len, rep_len;
} tok_norm;

typedef struct {
    int newlines;      /* 1: the regex [^\n]+|[\n]+ ; 0: the literal pat */
    char *pat;
    size_t pat_len;
    int behavior;      /* TOK_SPLIT_* */
    int invert;
} tok_split;

typedef struct {
    char *pat, *rep;
    size_t pat_len, rep_len;
} tok_replace;

/* One entry of the added_tokens list.  Entries with the same content share the first
 * one's id; as in HF the last entry's lstrip/rstrip/single_word apply to matches, and the
 * id is special if any entry is. */
typedef struct {
    int id;
    uint32_t off, len; /* content, in the pool */
    uint8_t special, normalized, lstrip, rstrip, single_word;
    int32_t first;     /* first entry with this content */
    int32_t last;      /* (on the first entry) last entry with this content */
} tok_added;

/* Byte trie over added-token contents; node 0 is the root. */
typedef struct {
    int32_t child, sibling; /* first child, next sibling (-1 = none) */
    int32_t added;          /* index into added[] ending here, or -1 */
    uint8_t byte;
} tok_tnode;

typedef struct {
    tok_tnode *node;
    int n, cap;
    int32_t root[256];      /* child of the root for each first byte */
    uint32_t *pat_off, *pat_len; /* normalized trie: the normalized patterns, in pool */
} tok_trie;

typedef struct {
    uint64_t key;          /* (a << 32 | b) + 1; 0 = empty */
    uint32_t rank;
    int32_t nid;
} tok_mslot;

struct g4_tokenizer {
    int model;             /* TOK_MODEL_* */
    int n_vocab;           /* ids are 0 .. n_vocab-1 */
    char *pool;
    size_t pool_len, pool_cap;
    uint32_t *off, *len;   /* token string per id (TOK_NOSTR: none) */
    uint8_t *in_model;     /* id is a model vocab entry */
    uint8_t *special;      /* id is a special added token */
    float *score;          /* SPM scores (NULL for BPE) */

    uint64_t *vh;          /* model vocab hash: hash tag << 32 | (id + 1); 0 = empty */
    uint32_t vh_mask;
    int32_t ascii_id[128]; /* vocab id of each one-byte string, -1 if none */

    tok_mslot *mh;         /* merges hash */
    uint32_t mh_mask;
    int n_merges;

    int byte_id[256];      /* "<0xXX>" ids for byte fallback, -1 if absent */
    int unk_id;            /* -1 if none */
    char *unk_token;       /* BPE unk_token string (NULL = none) */
    int byte_fallback, fuse_unk, ignore_merges;

    tok_added *added;
    int n_added, max_added_id, n_in_model;
    int32_t *ah;           /* content -> index into added[], -1 empty */
    uint32_t ah_mask;
    tok_trie raw, norm;    /* non-normalized / normalized added tokens */

    tok_norm *norms;
    int n_norms;
    tok_split *splits;
    int n_splits;

    /* decoder: Replace* [ByteFallback] [Fuse] [Strip]; none at all = join with " " */
    int has_decoder;
    tok_replace *dreps;
    int n_dreps;
    int dec_byte_fallback;
    char strip_ch[4];
    int strip_ch_len, strip_start;
    /* per id: decoded piece after the Replace steps, and its byte value if ByteFallback
     * reads it as <0xXX> (-1 otherwise) */
    char *dpool;
    uint32_t *doff, *dlen;
    int16_t *dbyte;
    size_t max_piece;
};

/* ---- tokenizer.c: building ---- */
uint64_t g4_tok_hash(const char *s, size_t n);
g4_tokenizer *g4_tok_new(void);
/* Set the number of ids (allocates the per-id arrays, all empty). */
g4_status g4_tok_set_n_vocab(g4_tokenizer *t, int n, int with_scores, char *err);
/* Size the model vocab hash for n entries (call once, before inserting). */
g4_status g4_tok_vocab_alloc(g4_tokenizer *t, size_t n, char *err);
/* Make s the model vocab entry of id (copied).  If s is already the entry of another id:
 * drop_old = 1 removes that id's entry (serde's HashMap: a repeated JSON key, last wins),
 * drop_old = 0 keeps its string but the hash then finds id (llama.cpp's token_to_id). */
g4_status g4_tok_vocab_insert(g4_tokenizer *t, int id, const char *s, size_t n, int drop_old, char *err);
int g4_tok_vocab_find(const g4_tokenizer *t, const char *s, size_t n);
g4_status g4_tok_merges_alloc(g4_tokenizer *t, size_t n, char *err);
/* Add merge (a, b) -> ab with the given rank; a later merge of the same pair replaces it. */
g4_status g4_tok_add_merge(g4_tokenizer *t, const char *a, size_t an, const char *b, size_t bn, uint32_t rank,
                        const char *what, char *err);
/* rank and merged id of the pair (a, b); 0 if no such merge */
int g4_tok_merge_find(const g4_tokenizer *t, int a, int b, uint32_t *rank, int *nid);
/* Append an added token (HF AddedVocabulary::add_tokens semantics for ids). */
/* The Gemma 4 tokens llama.cpp's converter marks USER_DEFINED so they are always rendered (<|channel>,
 * <|tool_call>, <|"|>, ...): the GGUF writer stores them so, and G4_TOK_SKIP_CONTROL shows them. */
int g4_tok_always_rendered(const char *s, size_t n);
g4_status g4_tok_add_added(g4_tokenizer *t, const char *s, size_t n, int special, int normalized, int lstrip,
                        int rstrip, int single_word, char *err);
/* After everything is set: byte ids, tries, decoder pieces. */
g4_status g4_tok_finish(g4_tokenizer *t, char *err);

/* ---- tokenizer.c: normalizing ---- */
/* Apply the normalizer steps to s[0..n) into a new g4_malloc'ed buffer. */
g4_status g4_tok_normalize(const g4_tokenizer *t, const char *s, size_t n, char **out, size_t *out_n);

/* ---- tok_encode.c / tok_bpe.c ---- */
typedef struct {
    int *v;
    size_t n, cap;
} tok_ivec;
g4_status g4_tok_ivec_push(tok_ivec *v, int x);

typedef struct tok_scratch tok_scratch;
tok_scratch *g4_tok_scratch_new(void);
void g4_tok_scratch_free(tok_scratch *s);
/* Model step over one pre-tokenized piece; appends ids. */
g4_status g4_tok_model_encode(const g4_tokenizer *t, tok_scratch *sc, const char *s, size_t n, tok_ivec *out,
                           char *err);

/* ---- tok_unicode.c ---- */
/* Offset of the first invalid byte, or n if s[0..n) is valid UTF-8 (strict: no overlongs,
 * surrogates or code points above U+10FFFF). */
size_t g4_tok_utf8_check(const char *s, size_t n);
/* Length of the UTF-8 character starting with byte c (1 for invalid lead bytes). */
int g4_tok_utf8_len(unsigned char c);
/* Decode the character at s (valid UTF-8 assumed), return its length. */
int g4_tok_utf8_decode(const char *s, uint32_t *cp);
int g4_tok_is_space(uint32_t cp); /* Unicode White_Space (Rust char::is_whitespace, regex \s) */
int g4_tok_is_word(uint32_t cp);  /* regex \w (Alphabetic, M, Nd, Pc, Join_Control) */

#endif
