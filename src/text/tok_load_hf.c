/* tok_load_hf.c -- read a Hugging Face tokenizer.json into a g4_tokenizer.
 *
 * What is implemented (everything Gemma's files use, plus close relatives):
 *   normalizer     null | Replace(String) | Prepend | Sequence of those
 *   pre_tokenizer  null | Split(String, or the Regex [^\n]+|[\n]+) with any behavior and
 *                  invert | Sequence of those
 *   model          BPE: vocab, merges ("a b" strings or [a, b] pairs), unk_token, fuse_unk,
 *                  byte_fallback, ignore_merges (no dropout, no subword prefix/suffix)
 *   decoder        null (tokens joined with " ") | Replace(String)* then ByteFallback?
 *                  then Fuse? then Strip(start, stop 0)?, alone or in a Sequence
 *   added_tokens   all flags
 *   post_processor ignored: encode never adds special tokens
 * Anything else is refused with G4_EUNSUPPORTED naming the component.
 *
 * The 33 MB Gemma file parses with cJSON in about 0.4 s; building the tables is linear
 * (hash tables throughout).  Ids follow HF: merges get their rank from their position, a
 * repeated vocab key keeps its last id, added tokens take their vocab id or a new one.
 */
#include "tok_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

typedef struct {
    g4_tokenizer *t;
    const char *name;
    char *err;
} ld;

static const char *jtype(const cJSON *o) {
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : NULL;
}

static int jnull(const cJSON *o) { return !o || cJSON_IsNull(o); }

static g4_status jbool(ld *L, const cJSON *o, const char *key, int dflt, int *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (jnull(x)) *v = dflt;
    else if (cJSON_IsBool(x)) *v = cJSON_IsTrue(x);
    else return g4_errf(L->err, G4_EFORMAT, "%s: \"%s\" is not a boolean", L->name, key);
    return G4_OK;
}

static g4_status jstr(ld *L, const cJSON *o, const char *key, const char *where, const char **s) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x))
        return g4_errf(L->err, G4_EFORMAT, "%s: %s: \"%s\" missing or not a string", L->name, where, key);
    *s = x->valuestring;
    return G4_OK;
}

/* pattern {"String": s} -> s; {"Regex": r} -> *is_regex = 1 */
static g4_status jpattern(ld *L, const cJSON *o, const char *where, const char **s, int *is_regex) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const cJSON *str = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    *is_regex = 0;
    if (cJSON_IsString(str)) *s = str->valuestring;
    else if (cJSON_IsString(re)) {
        *s = re->valuestring;
        *is_regex = 1;
    } else
        return g4_errf(L->err, G4_EFORMAT, "%s: %s: bad \"pattern\" (want {\"String\": ...} or {\"Regex\": ...})",
                       L->name, where);
    return G4_OK;
}

static char *dupn(const char *s, size_t n) {
    char *d = g4_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* ---- normalizer ---- */

static g4_status add_norm(ld *L, int kind, const char *pat, const char *rep) {
    g4_tokenizer *t = L->t;
    tok_norm *nv = g4_realloc(t->norms, sizeof *nv * (size_t)(t->n_norms + 1));
    if (!nv) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    t->norms = nv;
    tok_norm *n = &nv[t->n_norms];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->pat_len = pat ? strlen(pat) : 0;
    n->rep_len = strlen(rep);
    n->pat = pat ? dupn(pat, n->pat_len) : NULL;
    n->rep = dupn(rep, n->rep_len);
    t->n_norms++;
    if ((pat && !n->pat) || !n->rep) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    return G4_OK;
}

static g4_status read_normalizer(ld *L, const cJSON *o, int depth) {
    if (jnull(o)) return G4_OK;
    const char *ty = jtype(o);
    if (!ty) return g4_errf(L->err, G4_EFORMAT, "%s: normalizer without a \"type\"", L->name);
    g4_status st;
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "normalizers"), *x;
        if (!cJSON_IsArray(arr) || depth > 8)
            return g4_errf(L->err, G4_EFORMAT, "%s: normalizer Sequence without a \"normalizers\" array", L->name);
        cJSON_ArrayForEach(x, arr) if ((st = read_normalizer(L, x, depth + 1))) return st;
        return G4_OK;
    }
    if (!strcmp(ty, "Replace")) {
        const char *pat = NULL, *rep = NULL;
        int re = 0;
        if ((st = jpattern(L, o, "normalizer Replace", &pat, &re)) ||
            (st = jstr(L, o, "content", "normalizer Replace", &rep)))
            return st;
        if (re)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: normalizer Replace with a Regex pattern is not supported",
                           L->name);
        if (!*pat)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: normalizer Replace with an empty pattern is not supported",
                           L->name);
        return add_norm(L, TOK_NORM_REPLACE, pat, rep);
    }
    if (!strcmp(ty, "Prepend")) {
        const char *rep = NULL;
        if ((st = jstr(L, o, "prepend", "normalizer Prepend", &rep))) return st;
        return add_norm(L, TOK_NORM_PREPEND, NULL, rep);
    }
    return g4_errf(L->err, G4_EUNSUPPORTED, "%s: normalizer \"%s\" is not supported (have Replace, Prepend, Sequence)",
                   L->name, ty);
}

/* ---- pre-tokenizer ---- */

static g4_status read_pretok(ld *L, const cJSON *o, int depth) {
    if (jnull(o)) return G4_OK;
    const char *ty = jtype(o);
    if (!ty) return g4_errf(L->err, G4_EFORMAT, "%s: pre_tokenizer without a \"type\"", L->name);
    g4_status st;
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers"), *x;
        if (!cJSON_IsArray(arr) || depth > 8)
            return g4_errf(L->err, G4_EFORMAT, "%s: pre_tokenizer Sequence without a \"pretokenizers\" array", L->name);
        cJSON_ArrayForEach(x, arr) if ((st = read_pretok(L, x, depth + 1))) return st;
        return G4_OK;
    }
    if (strcmp(ty, "Split"))
        return g4_errf(L->err, G4_EUNSUPPORTED, "%s: pre_tokenizer \"%s\" is not supported (have Split, Sequence)",
                       L->name, ty);
    const char *pat = NULL, *beh = NULL;
    int re = 0, invert = 0;
    if ((st = jpattern(L, o, "pre_tokenizer Split", &pat, &re)) ||
        (st = jstr(L, o, "behavior", "pre_tokenizer Split", &beh)) || (st = jbool(L, o, "invert", 0, &invert)))
        return st;
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    int b = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(beh, names[i])) b = i;
    if (b < 0) return g4_errf(L->err, G4_EFORMAT, "%s: pre_tokenizer Split: unknown behavior \"%s\"", L->name, beh);
    int newlines = 0;
    if (re) {
        if (!strcmp(pat, "[^\\n]+|[\\n]+") || !strcmp(pat, "[^\n]+|[\n]+")) newlines = 1;
        else
            return g4_errf(L->err, G4_EUNSUPPORTED,
                           "%s: pre_tokenizer Split with Regex \"%.80s\" is not supported "
                           "(only [^\\n]+|[\\n]+)",
                           L->name, pat);
    } else if (!*pat)
        return g4_errf(L->err, G4_EUNSUPPORTED, "%s: pre_tokenizer Split with an empty pattern is not supported",
                       L->name);
    g4_tokenizer *t = L->t;
    tok_split *sv = g4_realloc(t->splits, sizeof *sv * (size_t)(t->n_splits + 1));
    if (!sv) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    t->splits = sv;
    tok_split *s = &sv[t->n_splits++];
    memset(s, 0, sizeof *s);
    s->newlines = newlines;
    s->behavior = b;
    s->invert = invert;
    if (!newlines) {
        s->pat_len = strlen(pat);
        if (!(s->pat = dupn(pat, s->pat_len))) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    }
    return G4_OK;
}

/* ---- decoder ---- */

enum { DEC_REPLACE, DEC_BYTEFB, DEC_FUSE, DEC_STRIP, DEC_END };

static g4_status read_decoder_step(ld *L, const cJSON *o, int *stage, int depth) {
    const char *ty = jtype(o);
    g4_tokenizer *t = L->t;
    g4_status st;
    if (!ty) return g4_errf(L->err, G4_EFORMAT, "%s: decoder without a \"type\"", L->name);
    int want;
    if (!strcmp(ty, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "decoders"), *x;
        if (!cJSON_IsArray(arr) || depth > 8)
            return g4_errf(L->err, G4_EFORMAT, "%s: decoder Sequence without a \"decoders\" array", L->name);
        cJSON_ArrayForEach(x, arr) if ((st = read_decoder_step(L, x, stage, depth + 1))) return st;
        return G4_OK;
    } else if (!strcmp(ty, "Replace")) want = DEC_REPLACE;
    else if (!strcmp(ty, "ByteFallback")) want = DEC_BYTEFB;
    else if (!strcmp(ty, "Fuse")) want = DEC_FUSE;
    else if (!strcmp(ty, "Strip")) want = DEC_STRIP;
    else
        return g4_errf(L->err, G4_EUNSUPPORTED,
                       "%s: decoder \"%s\" is not supported (have Replace, ByteFallback, Fuse, "
                       "Strip, Sequence)",
                       L->name, ty);
    if (want < *stage || (want == *stage && want != DEC_REPLACE))
        return g4_errf(L->err, G4_EUNSUPPORTED,
                       "%s: decoder \"%s\" at this position is not supported (want the order "
                       "Replace*, ByteFallback, Fuse, Strip)",
                       L->name, ty);
    int prev = *stage;
    *stage = want;
    if (want == DEC_REPLACE) {
        const char *pat = NULL, *rep = NULL;
        int re = 0;
        if ((st = jpattern(L, o, "decoder Replace", &pat, &re)) ||
            (st = jstr(L, o, "content", "decoder Replace", &rep)))
            return st;
        if (re)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: decoder Replace with a Regex pattern is not supported",
                           L->name);
        if (!*pat)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: decoder Replace with an empty pattern is not supported",
                           L->name);
        tok_replace *rv = g4_realloc(t->dreps, sizeof *rv * (size_t)(t->n_dreps + 1));
        if (!rv) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
        t->dreps = rv;
        tok_replace *r = &rv[t->n_dreps++];
        r->pat_len = strlen(pat);
        r->rep_len = strlen(rep);
        r->pat = dupn(pat, r->pat_len);
        r->rep = dupn(rep, r->rep_len);
        if (!r->pat || !r->rep) return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    } else if (want == DEC_BYTEFB) t->dec_byte_fallback = 1;
    else if (want == DEC_STRIP) {
        const char *c = NULL;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "start"), *b = cJSON_GetObjectItemCaseSensitive(o, "stop");
        if ((st = jstr(L, o, "content", "decoder Strip", &c))) return st;
        size_t cl = strlen(c);
        if (!cl || (size_t)g4_tok_utf8_len((unsigned char)c[0]) != cl || g4_tok_utf8_check(c, cl) != cl)
            return g4_errf(L->err, G4_EFORMAT, "%s: decoder Strip: \"content\" must be one character", L->name);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || a->valuedouble < 0 || a->valuedouble > 1e6 ||
            a->valuedouble != floor(a->valuedouble) || b->valuedouble < 0)
            return g4_errf(L->err, G4_EFORMAT, "%s: decoder Strip: bad \"start\"/\"stop\"", L->name);
        if (b->valuedouble != 0)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: decoder Strip with stop > 0 is not supported", L->name);
        /* Strip acts per token: without Fuse before it, it would strip every token */
        if (prev != DEC_FUSE && a->valuedouble != 0)
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: decoder Strip without a Fuse before it is not supported",
                           L->name);
        memcpy(t->strip_ch, c, cl);
        t->strip_ch_len = (int)cl;
        t->strip_start = (int)a->valuedouble;
    }
    return G4_OK;
}

static g4_status read_decoder(ld *L, const cJSON *o) {
    if (jnull(o)) return G4_OK; /* HF joins the tokens with spaces */
    L->t->has_decoder = 1;
    int stage = DEC_REPLACE;
    return read_decoder_step(L, o, &stage, 0);
}

/* ---- model ---- */

static g4_status read_model(ld *L, const cJSON *m) {
    g4_tokenizer *t = L->t;
    g4_status st;
    const char *ty = jtype(m);
    if (!cJSON_IsObject(m)) return g4_errf(L->err, G4_EFORMAT, "%s: no \"model\" object", L->name);
    if (ty && strcmp(ty, "BPE"))
        return g4_errf(L->err, G4_EUNSUPPORTED, "%s: model \"%s\" is not supported (have BPE)", L->name, ty);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(m, "merges");
    if (!cJSON_IsObject(vocab)) return g4_errf(L->err, G4_EFORMAT, "%s: model has no \"vocab\" object", L->name);
    if (!cJSON_IsArray(merges)) return g4_errf(L->err, G4_EFORMAT, "%s: model has no \"merges\" array", L->name);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, "dropout");
    if (!jnull(x) && !(cJSON_IsNumber(x) && x->valuedouble == 0))
        return g4_errf(L->err, G4_EUNSUPPORTED, "%s: BPE dropout is not supported", L->name);
    static const char *affix[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        x = cJSON_GetObjectItemCaseSensitive(m, affix[i]);
        if (!jnull(x) && !(cJSON_IsString(x) && !*x->valuestring))
            return g4_errf(L->err, G4_EUNSUPPORTED, "%s: BPE %s is not supported", L->name, affix[i]);
    }
    if ((st = jbool(L, m, "fuse_unk", 0, &t->fuse_unk)) || (st = jbool(L, m, "byte_fallback", 0, &t->byte_fallback)) ||
        (st = jbool(L, m, "ignore_merges", 0, &t->ignore_merges)))
        return st;
    x = cJSON_GetObjectItemCaseSensitive(m, "unk_token");
    if (cJSON_IsString(x)) {
        if (!(t->unk_token = dupn(x->valuestring, strlen(x->valuestring))))
            return g4_errf(L->err, G4_ENOMEM, "%s: out of memory", L->name);
    } else if (!jnull(x)) return g4_errf(L->err, G4_EFORMAT, "%s: BPE unk_token is not a string", L->name);

    size_t nv = 0;
    double max_id = -1;
    cJSON_ArrayForEach(x, vocab) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= (1 << 30) ||
            x->valuedouble != floor(x->valuedouble))
            return g4_errf(L->err, G4_EFORMAT, "%s: vocab entry \"%.64s\": id is not an integer in [0, 2^30)", L->name,
                           x->string ? x->string : "");
        if (x->valuedouble > max_id) max_id = x->valuedouble;
        nv++;
    }
    if (!nv) return g4_errf(L->err, G4_EFORMAT, "%s: empty vocab", L->name);
    if (max_id >= 2.0 * (double)nv + 1024) /* real vocabs are dense; this bounds the id tables */
        return g4_errf(L->err, G4_EFORMAT, "%s: vocab ids too sparse (max id %.0f for %zu entries)", L->name, max_id,
                       nv);
    if ((st = g4_tok_set_n_vocab(t, (int)max_id + 1, 0, L->err)) || (st = g4_tok_vocab_alloc(t, nv, L->err))) return st;
    cJSON_ArrayForEach(x, vocab) {
        if ((st = g4_tok_vocab_insert(t, (int)x->valuedouble, x->string, strlen(x->string), 1, L->err))) {
            if (st == G4_EFORMAT)
                return g4_errf(L->err, st, "%s: vocab id %d is given to two tokens", L->name, (int)x->valuedouble);
            return st;
        }
    }
    size_t nm = (size_t)cJSON_GetArraySize(merges);
    if ((st = g4_tok_merges_alloc(t, nm, L->err))) return st;
    uint32_t rank = 0;
    cJSON_ArrayForEach(x, merges) {
        const char *a = NULL, *b = NULL;
        size_t an, bn;
        if (cJSON_IsString(x)) { /* "a b": exactly one space */
            const char *sp = strchr(x->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return g4_errf(L->err, G4_EFORMAT, "%s: merge %u \"%.64s\" is not two tokens split by one space",
                               L->name, rank, x->valuestring);
            a = x->valuestring;
            an = (size_t)(sp - a);
            b = sp + 1;
            bn = strlen(b);
        } else if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2 && cJSON_IsString(x->child) &&
                   cJSON_IsString(x->child->next)) {
            a = x->child->valuestring;
            b = x->child->next->valuestring;
            an = strlen(a);
            bn = strlen(b);
        } else return g4_errf(L->err, G4_EFORMAT, "%s: merge %u is neither \"a b\" nor [\"a\", \"b\"]", L->name, rank);
        if ((st = g4_tok_add_merge(t, a, an, b, bn, rank, L->name, L->err))) return st;
        rank++;
    }
    return G4_OK;
}

static g4_status read_added(ld *L, const cJSON *arr) {
    if (jnull(arr)) return G4_OK;
    if (!cJSON_IsArray(arr)) return g4_errf(L->err, G4_EFORMAT, "%s: \"added_tokens\" is not an array", L->name);
    const cJSON *x;
    g4_status st;
    cJSON_ArrayForEach(x, arr) {
        const char *c = NULL;
        int sp = 0, nz = 0, ls = 0, rs = 0, sw = 0;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id"); /* required, though HF assigns its own */
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble != floor(id->valuedouble))
            return g4_errf(L->err, G4_EFORMAT, "%s: added token without an integer \"id\"", L->name);
        static const char *flag[] = {"special", "normalized", "lstrip", "rstrip", "single_word"};
        int *fv[] = {&sp, &nz, &ls, &rs, &sw};
        if ((st = jstr(L, x, "content", "added token", &c))) return st;
        for (int k = 0; k < 5; k++) { /* all required, as serde requires them */
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(x, flag[k]);
            if (!cJSON_IsBool(b))
                return g4_errf(L->err, G4_EFORMAT, "%s: added token \"%.64s\": \"%s\" missing or not a boolean",
                               L->name, c, flag[k]);
            *fv[k] = cJSON_IsTrue(b);
        }
        if ((st = g4_tok_add_added(L->t, c, strlen(c), sp, nz, ls, rs, sw, L->err))) return st;
    }
    return G4_OK;
}

g4_status g4_tokenizer_load_hf_mem(g4_tokenizer **out, const char *json, size_t len, const char *name, char *err) {
    if (!out || (!json && len)) return g4_errf(err, G4_EINVAL, "tokenizer: NULL argument");
    *out = NULL;
    if (!name) name = "tokenizer.json";
    size_t bad = g4_tok_utf8_check(json, len);
    if (bad != len) return g4_errf(err, G4_EFORMAT, "%s: not valid UTF-8 at byte %zu", name, bad);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return g4_errf(err, G4_EFORMAT, "%s: not valid JSON (or out of memory) near byte %zu", name, at);
    }
    g4_status st;
    ld L = {g4_tok_new(), name, err};
    if (!L.t) {
        st = g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
        goto done;
    }
    L.t->model = TOK_MODEL_BPE;
    if (!cJSON_IsObject(root)) {
        st = g4_errf(err, G4_EFORMAT, "%s: top level is not an object", name);
        goto done;
    }
    static const char *must_null[] = {"truncation", "padding"};
    for (int i = 0; i < 2; i++)
        if (!jnull(cJSON_GetObjectItemCaseSensitive(root, must_null[i]))) {
            st = g4_errf(err, G4_EUNSUPPORTED, "%s: \"%s\" is set; only null is supported", name, must_null[i]);
            goto done;
        }
    if ((st = read_model(&L, cJSON_GetObjectItemCaseSensitive(root, "model"))) ||
        (st = read_normalizer(&L, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), 0)) ||
        (st = read_pretok(&L, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), 0)) ||
        (st = read_decoder(&L, cJSON_GetObjectItemCaseSensitive(root, "decoder"))) ||
        (st = read_added(&L, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"))) || (st = g4_tok_finish(L.t, err)))
        goto done;
    *out = L.t;
    L.t = NULL;
done:
    g4_tokenizer_free(L.t);
    cJSON_Delete(root);
    return st;
}

g4_status g4_tokenizer_load_hf(g4_tokenizer **out, const char *path, char *err) {
    if (!out || !path) return g4_errf(err, G4_EINVAL, "tokenizer: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return g4_errf(err, G4_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return g4_errf(err, G4_EIO, "%s: cannot get the size", path);
    }
    if (!(buf = g4_malloc((size_t)n + 1))) {
        fclose(f);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory for %ld bytes", path, n);
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    int rerr = ferror(f);
    fclose(f);
    if (got != (size_t)n || rerr) {
        g4_free(buf);
        return g4_errf(err, G4_EIO, "%s: read failed (got %zu bytes, want %ld)", path, got, n);
    }
    g4_status st = g4_tokenizer_load_hf_mem(out, buf, (size_t)n, path, err);
    g4_free(buf);
    return st;
}
