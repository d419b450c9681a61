/* gguf.c -- GGUF v2/v3 reader (mmap, zero-copy, validated up front) and v3 writer.
 *
 * The header is parsed twice by the same code.  Pass 1 only validates and counts: no
 * count read from the file is ever used to size an allocation before every byte it
 * implies has been seen to exist.  Pass 2 fills the arrays sized by pass 1 (it cannot
 * fail in new ways: same bytes, same checks).  Then two hash tables over the keys and
 * tensor names catch duplicates and make lookups O(1).  All multi-byte header fields
 * are read byte by byte (no unaligned loads); numeric array and tensor data are handed
 * out as pointers into the mapping, so this file assumes a little-endian host.
 *
 * The writer serializes each value when it is set, so g4_gguf_writer_write only streams
 * bytes: header, key/values, tensor infos, zero padding to the alignment, then every
 * tensor padded to the alignment (the layout gguf-py and ggml write).  It writes to
 * "<path>.tmp" and renames, removing the temporary file on any error.
 */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/quant.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c assumes a little-endian host"
#endif

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */
#define GGUF_DEFAULT_ALIGN 32u
#define GGUF_KV_MIN 13u        /* u64 key length + u32 type + 1 byte of value */
#define GGUF_TENSOR_MIN 32u    /* u64 name length + u32 n_dims + u64 ne + u32 type + u64 offset */
#define GGUF_NAME_SHOW 64      /* key/tensor-name bytes quoted in error messages */

/* ---------------------------------------------------------------- helpers */

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static int mul_ovf(uint64_t a, uint64_t b, uint64_t *r) { return __builtin_mul_overflow(a, b, r); }
static int add_ovf(uint64_t a, uint64_t b, uint64_t *r) { return __builtin_add_overflow(a, b, r); }

/* Bytes of one scalar of type t; 0 for string, array and unknown ids. */
static size_t vtype_size(uint32_t t) {
    switch (t) {
    case G4_GGUF_UINT8: case G4_GGUF_INT8: case G4_GGUF_BOOL: return 1;
    case G4_GGUF_UINT16: case G4_GGUF_INT16: return 2;
    case G4_GGUF_UINT32: case G4_GGUF_INT32: case G4_GGUF_FLOAT32: return 4;
    case G4_GGUF_UINT64: case G4_GGUF_INT64: case G4_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static int is_pow2(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

static uint64_t hash_bytes(const char *s, size_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

/* ---------------------------------------------------------------- reader types */

typedef struct {
    const char *key;      /* NUL-terminated, in f->names */
    uint32_t type;
    uint32_t elem;        /* arrays: element type */
    uint64_t n;           /* string: byte length; array: element count */
    const uint8_t *p;     /* scalar value, string bytes, or first array element */
    const size_t *soff;   /* string arrays: file offset of each element's u64 length */
    size_t raw_off, raw_len; /* the value's bytes after the type field (for copy_kvs) */
} gguf_kv;

struct g4_gguf {
    const uint8_t *base;
    size_t size;
    int mapped;
    char *path;
    uint32_t version, alignment;
    size_t data_off;
    int64_t n_kv, n_tensors;
    gguf_kv *kvs;
    g4_tensor *tensors;
    char *names;     /* every key and tensor name, NUL-terminated */
    size_t *soffs;   /* element offsets of all string arrays */
    size_t *kv_hash, *t_hash; /* open addressing: index + 1, 0 = empty */
    size_t kv_cap, t_cap;
};

/* Parse state shared by both passes. */
typedef struct {
    const uint8_t *b;
    size_t size, pos;
    const char *name;
    char *err;
    char what[160];  /* context for messages: "kv 3 'general.name'" */
    /* counted in pass 1, used as fill cursors in pass 2 */
    size_t name_bytes, n_soff;
    uint32_t alignment;
    /* the tensor whose data ends last (checked once the data section is known) */
    uint64_t max_end;
    const uint8_t *max_name;
    size_t max_name_len;
} gcur;

static size_t left(const gcur *c) { return c->size - c->pos; }

static g4_status need(gcur *c, size_t n, const char *field) {
    if (left(c) >= n) return G4_OK;
    return g4_errf(c->err, G4_EFORMAT, "%s: truncated at offset %zu reading %s%s%s (need %zu bytes, got %zu)",
                   c->name, c->pos, field, c->what[0] ? " of " : "", c->what, n, left(c));
}

static g4_status rd32(gcur *c, uint32_t *v, const char *field) {
    g4_status st = need(c, 4, field);
    if (st) return st;
    *v = le32(c->b + c->pos);
    c->pos += 4;
    return G4_OK;
}

static g4_status rd64(gcur *c, uint64_t *v, const char *field) {
    g4_status st = need(c, 8, field);
    if (st) return st;
    *v = le64(c->b + c->pos);
    c->pos += 8;
    return G4_OK;
}

/* A gguf string: u64 length then bytes.  *s points at the bytes. */
static g4_status rdstr(gcur *c, const uint8_t **s, uint64_t *len, const char *field) {
    size_t at = c->pos;
    g4_status st = rd64(c, len, field);
    if (st) return st;
    if (*len > left(c))
        return g4_errf(c->err, G4_EFORMAT, "%s: %s%s%s at offset %zu has length %llu, past the end of the file (%zu bytes left)",
                       c->name, field, c->what[0] ? " of " : "", c->what, at, (unsigned long long)*len, left(c));
    *s = c->b + c->pos;
    c->pos += (size_t)*len;
    return G4_OK;
}

/* Value of type t at c->pos; fills *kv when kv != NULL (pass 2). */
static g4_status parse_value(gcur *c, g4_gguf *g, uint32_t t, gguf_kv *kv) {
    g4_status st;
    size_t sz = vtype_size(t);
    if (sz) {
        if ((st = need(c, sz, "value"))) return st;
        if (kv) kv->p = c->b + c->pos;
        c->pos += sz;
        return G4_OK;
    }
    if (t == G4_GGUF_STRING) {
        const uint8_t *s;
        uint64_t len;
        if ((st = rdstr(c, &s, &len, "string value"))) return st;
        if (kv) { kv->p = s; kv->n = len; }
        return G4_OK;
    }
    if (t != G4_GGUF_ARRAY)
        return g4_errf(c->err, G4_EFORMAT, "%s: unknown value type %u at offset %zu in %s (want 0..12)",
                       c->name, t, c->pos - 4, c->what);
    uint32_t et;
    uint64_t n;
    if ((st = rd32(c, &et, "array element type"))) return st;
    if ((st = rd64(c, &n, "array length"))) return st;
    if (kv) { kv->elem = et; kv->n = n; kv->p = c->b + c->pos; }
    if (et == G4_GGUF_ARRAY)
        return g4_errf(c->err, G4_EUNSUPPORTED, "%s: %s: arrays of arrays are not supported", c->name, c->what);
    if (et == G4_GGUF_STRING) {
        if (n > left(c) / 8)
            return g4_errf(c->err, G4_EFORMAT, "%s: %s: array of %llu strings cannot fit in the %zu bytes left",
                           c->name, c->what, (unsigned long long)n, left(c));
        if (kv) kv->soff = g->soffs + c->n_soff;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *s;
            uint64_t len;
            if (kv) g->soffs[c->n_soff + i] = c->pos;
            if ((st = rdstr(c, &s, &len, "array string"))) return st;
        }
        c->n_soff += (size_t)n;
        return G4_OK;
    }
    sz = vtype_size(et);
    if (!sz)
        return g4_errf(c->err, G4_EFORMAT, "%s: %s: unknown array element type %u (want 0..12)", c->name, c->what, et);
    if (n > left(c) / sz)
        return g4_errf(c->err, G4_EFORMAT, "%s: %s: array of %llu elements of %zu bytes runs past the end of the file (%zu bytes left)",
                       c->name, c->what, (unsigned long long)n, sz, left(c));
    c->pos += (size_t)n * sz;
    return G4_OK;
}

static void set_what(gcur *c, const char *kind, uint64_t i, const uint8_t *s, uint64_t len) {
    if (s)
        snprintf(c->what, sizeof c->what, "%s %llu '%.*s%s'", kind, (unsigned long long)i,
                 (int)G4_MIN(len, GGUF_NAME_SHOW), (const char *)s, len > GGUF_NAME_SHOW ? "..." : "");
    else
        snprintf(c->what, sizeof c->what, "%s %llu", kind, (unsigned long long)i);
}

/* Key or tensor name: no NUL inside (we hand them out as C strings); copied in pass 2. */
static g4_status parse_name(gcur *c, g4_gguf *g, const char *field, const uint8_t **s, uint64_t *len, const char **copy) {
    g4_status st = rdstr(c, s, len, field);
    if (st) return st;
    if (memchr(*s, 0, (size_t)*len))
        return g4_errf(c->err, G4_EFORMAT, "%s: %s of %s contains a NUL byte", c->name, field, c->what);
    if (g) {
        char *d = g->names + c->name_bytes;
        memcpy(d, *s, (size_t)*len);
        d[*len] = 0;
        *copy = d;
    }
    c->name_bytes += (size_t)*len + 1;
    return G4_OK;
}

static g4_status parse_kvs(gcur *c, g4_gguf *g, uint64_t n_kv) {
    g4_status st;
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = g ? &g->kvs[i] : NULL;
        const uint8_t *key;
        uint64_t klen;
        const char *copy = NULL;
        uint32_t t;
        set_what(c, "kv", i, NULL, 0);
        if ((st = parse_name(c, g, "key", &key, &klen, &copy))) return st;
        set_what(c, "key", i, key, klen);
        if ((st = rd32(c, &t, "value type"))) return st;
        size_t raw = c->pos;
        if (kv) { memset(kv, 0, sizeof *kv); kv->key = copy; kv->type = t; }
        if ((st = parse_value(c, g, t, kv))) return st;
        if (kv) { kv->raw_off = raw; kv->raw_len = c->pos - raw; }
        if (klen == 17 && !memcmp(key, "general.alignment", 17)) {
            if (t != G4_GGUF_UINT32)
                return g4_errf(c->err, G4_EFORMAT, "%s: general.alignment has value type %u (want %d, uint32)", c->name, t, G4_GGUF_UINT32);
            uint32_t a = le32(c->b + raw);
            if (!is_pow2(a))
                return g4_errf(c->err, G4_EFORMAT, "%s: general.alignment must be a nonzero power of two (got %u)", c->name, a);
            c->alignment = a;
        }
    }
    return G4_OK;
}

static g4_status parse_tensors(gcur *c, g4_gguf *g, uint64_t n_tensors) {
    g4_status st;
    for (uint64_t i = 0; i < n_tensors; i++) {
        const uint8_t *name;
        uint64_t nlen, ne[G4_MAX_DIMS] = {1, 1, 1, 1}, off;
        const char *copy = NULL;
        uint32_t nd, type;
        set_what(c, "tensor", i, NULL, 0);
        if ((st = parse_name(c, g, "name", &name, &nlen, &copy))) return st;
        set_what(c, "tensor", i, name, nlen);
        if ((st = rd32(c, &nd, "n_dims"))) return st;
        if (nd < 1 || nd > G4_MAX_DIMS)
            return g4_errf(c->err, G4_EFORMAT, "%s: %s: n_dims out of range (got %u, want 1..%d)", c->name, c->what, nd, G4_MAX_DIMS);
        for (uint32_t d = 0; d < nd; d++) {
            if ((st = rd64(c, &ne[d], "ne"))) return st;
            if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX)
                return g4_errf(c->err, G4_EFORMAT, "%s: %s: ne[%u] out of range (got %llu, want 1..2^63-1)",
                               c->name, c->what, d, (unsigned long long)ne[d]);
        }
        if ((st = rd32(c, &type, "type"))) return st;
        const g4_type_info *ti = type < G4_TYPE_COUNT ? g4_type_get((int)type) : NULL;
        if (!ti || ti->blck <= 0 || ti->size == 0)
            return g4_errf(c->err, G4_EUNSUPPORTED, "%s: %s: unknown ggml type id %u", c->name, c->what, type);
        if ((st = rd64(c, &off, "offset"))) return st;
        if (off % c->alignment)
            return g4_errf(c->err, G4_EFORMAT, "%s: %s: data offset %llu is not a multiple of the alignment %u",
                           c->name, c->what, (unsigned long long)off, c->alignment);
        if (ne[0] % (uint64_t)ti->blck)
            return g4_errf(c->err, G4_EFORMAT, "%s: %s: ne[0] = %llu is not a multiple of the %s block size %lld",
                           c->name, c->what, (unsigned long long)ne[0], ti->name, (long long)ti->blck);
        uint64_t row, rows, nel, nbytes, end;
        if (mul_ovf(ne[0] / (uint64_t)ti->blck, ti->size, &row) || mul_ovf(ne[1], ne[2], &rows) ||
            mul_ovf(rows, ne[3], &rows) || mul_ovf(ne[0], rows, &nel) || nel > (uint64_t)INT64_MAX ||
            mul_ovf(row, rows, &nbytes) || nbytes > SIZE_MAX || add_ovf(off, nbytes, &end))
            return g4_errf(c->err, G4_EFORMAT, "%s: %s: size overflows (ne = [%llu, %llu, %llu, %llu])", c->name, c->what,
                           (unsigned long long)ne[0], (unsigned long long)ne[1], (unsigned long long)ne[2], (unsigned long long)ne[3]);
        if (end > c->max_end || !c->max_name) { c->max_end = end; c->max_name = name; c->max_name_len = (size_t)nlen; }
        if (g) {
            g4_tensor *t = &g->tensors[i];
            t->name = copy;
            t->type = (g4_type)type;
            t->n_dims = (int)nd;
            for (int d = 0; d < G4_MAX_DIMS; d++) t->ne[d] = (int64_t)ne[d];
            t->data = g->base + g->data_off + off; /* in bounds: pass 1 checked end <= size */
            t->nbytes = (size_t)nbytes;
        }
    }
    return G4_OK;
}

/* One pass over the header.  g == NULL: validate and count; else fill g's arrays. */
static g4_status parse(gcur *c, g4_gguf *g, uint64_t *n_kv_out, uint64_t *n_tensors_out) {
    g4_status st;
    uint32_t magic, version;
    uint64_t n_tensors, n_kv;
    c->pos = 0;
    c->what[0] = 0;
    c->name_bytes = c->n_soff = 0;
    c->alignment = GGUF_DEFAULT_ALIGN;
    c->max_end = 0;
    c->max_name = NULL;
    if (c->size == 0) return g4_errf(c->err, G4_EFORMAT, "%s: empty file (want a GGUF header)", c->name);
    if ((st = rd32(c, &magic, "magic"))) return st;
    if (magic != GGUF_MAGIC)
        return g4_errf(c->err, G4_EFORMAT, "%s: not a GGUF file: bad magic (got 0x%08x, want 0x%08x \"GGUF\")", c->name, magic, GGUF_MAGIC);
    if ((st = rd32(c, &version, "version"))) return st;
    if (version != 2 && version != 3) {
        if ((version & 0xffff) == 0)
            return g4_errf(c->err, G4_EFORMAT, "%s: big-endian GGUF files are not supported (version field 0x%08x)", c->name, version);
        return g4_errf(c->err, G4_EFORMAT, "%s: unsupported GGUF version (got %u, want 2 or 3)", c->name, version);
    }
    if ((st = rd64(c, &n_tensors, "tensor count"))) return st;
    if ((st = rd64(c, &n_kv, "key/value count"))) return st;
    if (n_kv > left(c) / GGUF_KV_MIN)
        return g4_errf(c->err, G4_EFORMAT, "%s: key/value count %llu cannot fit in the %zu bytes left (each needs at least %u)",
                       c->name, (unsigned long long)n_kv, left(c), GGUF_KV_MIN);
    if (n_tensors > (left(c) - n_kv * GGUF_KV_MIN) / GGUF_TENSOR_MIN)
        return g4_errf(c->err, G4_EFORMAT, "%s: tensor count %llu cannot fit in the %zu bytes left (each needs at least %u)",
                       c->name, (unsigned long long)n_tensors, left(c), GGUF_TENSOR_MIN);
    if (g) { g->version = version; }
    if ((st = parse_kvs(c, g, n_kv))) return st;
    if ((st = parse_tensors(c, g, n_tensors))) return st;
    c->what[0] = 0;
    uint64_t data_off;
    if (add_ovf(c->pos, c->alignment - 1, &data_off))
        return g4_errf(c->err, G4_EFORMAT, "%s: data offset overflows", c->name);
    data_off &= ~(uint64_t)(c->alignment - 1);
    if (n_tensors > 0) {
        if (data_off > c->size)
            return g4_errf(c->err, G4_EFORMAT, "%s: data section starts at %llu, past the end of the file (size %zu)",
                           c->name, (unsigned long long)data_off, c->size);
        if (c->max_end > c->size - data_off)
            return g4_errf(c->err, G4_EFORMAT, "%s: tensor '%.*s%s' data ends at byte %llu, past the end of the file (size %zu)",
                           c->name, (int)G4_MIN(c->max_name_len, GGUF_NAME_SHOW), (const char *)c->max_name,
                           c->max_name_len > GGUF_NAME_SHOW ? "..." : "",
                           (unsigned long long)(data_off + c->max_end), c->size);
    }
    if (n_kv_out) *n_kv_out = n_kv;
    if (n_tensors_out) *n_tensors_out = n_tensors;
    if (g) { g->alignment = c->alignment; g->data_off = (size_t)data_off; }
    return G4_OK;
}

/* Insert every name into a fresh table; report the first duplicate. */
static g4_status build_hash(size_t **tab, size_t *cap, int64_t n, const char *(*name_of)(const g4_gguf *, int64_t),
                            const g4_gguf *g, const char *what, char *err) {
    *cap = 0;
    *tab = NULL;
    if (n == 0) return G4_OK;
    size_t c = 2;
    while (c < (size_t)n * 2) c <<= 1;
    *tab = g4_calloc(c, sizeof **tab);
    if (!*tab) return g4_errf(err, G4_ENOMEM, "%s: out of memory for the %s index", g->path, what);
    *cap = c;
    for (int64_t i = 0; i < n; i++) {
        const char *s = name_of(g, i);
        size_t h = (size_t)hash_bytes(s, strlen(s)) & (c - 1);
        while ((*tab)[h]) {
            int64_t j = (int64_t)(*tab)[h] - 1;
            if (!strcmp(name_of(g, j), s))
                return g4_errf(err, G4_EFORMAT, "%s: duplicate %s '%.*s%s' (%lld and %lld)", g->path, what, GGUF_NAME_SHOW, s,
                               strlen(s) > GGUF_NAME_SHOW ? "..." : "", (long long)j, (long long)i);
            h = (h + 1) & (c - 1);
        }
        (*tab)[h] = (size_t)i + 1;
    }
    return G4_OK;
}

static const char *kv_name(const g4_gguf *g, int64_t i) { return g->kvs[i].key; }
static const char *t_name(const g4_gguf *g, int64_t i) { return g->tensors[i].name; }

static int64_t hash_find(const size_t *tab, size_t cap, const char *s, const char *(*name_of)(const g4_gguf *, int64_t),
                         const g4_gguf *g) {
    if (!cap || !s) return -1;
    size_t h = (size_t)hash_bytes(s, strlen(s)) & (cap - 1);
    while (tab[h]) {
        int64_t j = (int64_t)tab[h] - 1;
        if (!strcmp(name_of(g, j), s)) return j;
        h = (h + 1) & (cap - 1);
    }
    return -1;
}

static g4_status open_bytes(g4_gguf **out, const uint8_t *data, size_t size, const char *name, int mapped, char *err) {
    gcur c = {.b = data, .size = size, .name = name, .err = err};
    uint64_t n_kv, n_tensors;
    g4_status st = parse(&c, NULL, &n_kv, &n_tensors);
    if (st) return st;
    size_t name_bytes = c.name_bytes, n_soff = c.n_soff;
    g4_gguf *g = g4_calloc(1, sizeof *g);
    if (!g) return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    g->base = data;
    g->size = size;
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    g->data_off = 0;
    if (!(g->path = g4_strdup(name)) || !(g->kvs = g4_calloc((size_t)n_kv, sizeof *g->kvs)) ||
        !(g->tensors = g4_calloc((size_t)n_tensors, sizeof *g->tensors)) || !(g->names = g4_malloc(name_bytes)) ||
        !(g->soffs = g4_calloc(n_soff, sizeof *g->soffs))) {
        st = g4_errf(err, G4_ENOMEM, "%s: out of memory for the header of %zu bytes", name, c.pos);
        goto fail;
    }
    /* pass 1 already computed the data offset; pass 2 needs it to point the tensors */
    {
        uint64_t a = c.alignment;
        g->data_off = (size_t)((c.pos + a - 1) & ~(a - 1));
    }
    if ((st = parse(&c, g, NULL, NULL))) goto fail; /* cannot fail: same bytes as pass 1 */
    if ((st = build_hash(&g->kv_hash, &g->kv_cap, g->n_kv, kv_name, g, "key", err))) goto fail;
    if ((st = build_hash(&g->t_hash, &g->t_cap, g->n_tensors, t_name, g, "tensor name", err))) goto fail;
    g->mapped = mapped;
    *out = g;
    return G4_OK;
fail:
    g4_gguf_close(g);
    return st;
}

g4_status g4_gguf_open_mem(g4_gguf **out, const void *data, size_t size, const char *name, char *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    if (!data && size) return g4_errf(err, G4_EINVAL, "%s: NULL data with size %zu", name, size);
    return open_bytes(out, data, size, name, 0, err);
}

g4_status g4_gguf_open(g4_gguf **out, const char *path, char *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return g4_errf(err, G4_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return g4_errf(err, G4_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) { close(fd); return g4_errf(err, G4_EIO, "%s: is a directory (want a GGUF file)", path); }
    if (!S_ISREG(st.st_mode)) { close(fd); return g4_errf(err, G4_EIO, "%s: not a regular file", path); }
    if (st.st_size == 0) { close(fd); return g4_errf(err, G4_EFORMAT, "%s: empty file (want a GGUF header)", path); }
    size_t size = (size_t)st.st_size;
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) return g4_errf(err, G4_EIO, "%s: mmap of %zu bytes failed: %s", path, size, strerror(e));
    g4_status s = open_bytes(out, m, size, path, 1, err);
    if (s) munmap(m, size);
    return s;
}

void g4_gguf_release(const g4_gguf *f, const void *p, size_t n) {
    if (!f || !f->mapped || !p) return;
    const uintptr_t a = (uintptr_t)p, base = (uintptr_t)f->base, pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (a < base || n > f->size || a - base > f->size - n) return;
    const uintptr_t lo = (a + pg - 1) / pg * pg, hi = (a + n) / pg * pg;
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED); /* read-only file pages: dropped, not lost */
}

void g4_gguf_close(g4_gguf *f) {
    if (!f) return;
    if (f->mapped) munmap((void *)f->base, f->size);
    g4_free(f->path);
    g4_free(f->kvs);
    g4_free(f->tensors);
    g4_free(f->names);
    g4_free(f->soffs);
    g4_free(f->kv_hash);
    g4_free(f->t_hash);
    g4_free(f);
}

/* ---------------------------------------------------------------- accessors */

const char *g4_gguf_path(const g4_gguf *f) { return f->path; }
uint32_t g4_gguf_version(const g4_gguf *f) { return f->version; }
size_t g4_gguf_file_size(const g4_gguf *f) { return f->size; }
size_t g4_gguf_data_offset(const g4_gguf *f) { return f->data_off; }
int64_t g4_gguf_n_kv(const g4_gguf *f) { return f->n_kv; }

const char *g4_gguf_kv_key(const g4_gguf *f, int64_t i) { return i >= 0 && i < f->n_kv ? f->kvs[i].key : NULL; }

g4_gguf_vtype g4_gguf_kv_type(const g4_gguf *f, int64_t i) {
    G4_ASSERT(i >= 0 && i < f->n_kv);
    return (g4_gguf_vtype)f->kvs[i].type;
}

int64_t g4_gguf_find_key(const g4_gguf *f, const char *key) { return hash_find(f->kv_hash, f->kv_cap, key, kv_name, f); }

static const gguf_kv *kv_get(const g4_gguf *f, const char *key) {
    int64_t i = g4_gguf_find_key(f, key);
    return i < 0 ? NULL : &f->kvs[i];
}

/* Integer of type t at p as (signed?, value). False for non-integer types. */
static bool rd_int(uint32_t t, const uint8_t *p, bool *sig, int64_t *s, uint64_t *u) {
    *sig = false;
    switch (t) {
    case G4_GGUF_UINT8: *u = p[0]; return true;
    case G4_GGUF_UINT16: *u = (uint16_t)(p[0] | p[1] << 8); return true;
    case G4_GGUF_UINT32: *u = le32(p); return true;
    case G4_GGUF_UINT64: *u = le64(p); return true;
    case G4_GGUF_INT8: *sig = true; *s = (int8_t)p[0]; return true;
    case G4_GGUF_INT16: *sig = true; *s = (int16_t)(uint16_t)(p[0] | p[1] << 8); return true;
    case G4_GGUF_INT32: *sig = true; *s = (int32_t)le32(p); return true;
    case G4_GGUF_INT64: *sig = true; *s = (int64_t)le64(p); return true;
    default: return false;
    }
}

static bool conv_i64(uint32_t t, const uint8_t *p, int64_t *v) {
    bool sig;
    int64_t s = 0;
    uint64_t u = 0;
    if (!rd_int(t, p, &sig, &s, &u)) return false;
    if (!sig) {
        if (u > (uint64_t)INT64_MAX) return false;
        s = (int64_t)u;
    }
    if (v) *v = s;
    return true;
}

static bool conv_f32(uint32_t t, const uint8_t *p, float *v) {
    if (t == G4_GGUF_FLOAT32) {
        uint32_t b = le32(p);
        float x;
        memcpy(&x, &b, 4);
        if (v) *v = x;
        return true;
    }
    if (t == G4_GGUF_FLOAT64) {
        uint64_t b = le64(p);
        double x;
        memcpy(&x, &b, 8);
        if (v) *v = (float)x;
        return true;
    }
    return false;
}

bool g4_gguf_get_u32(const g4_gguf *f, const char *key, uint32_t *v) {
    const gguf_kv *kv = kv_get(f, key);
    bool sig;
    int64_t s = 0;
    uint64_t u = 0;
    if (!kv || !rd_int(kv->type, kv->p, &sig, &s, &u)) return false;
    if (sig) {
        if (s < 0) return false;
        u = (uint64_t)s;
    }
    if (u > UINT32_MAX) return false;
    if (v) *v = (uint32_t)u;
    return true;
}

bool g4_gguf_get_i64(const g4_gguf *f, const char *key, int64_t *v) {
    const gguf_kv *kv = kv_get(f, key);
    return kv && conv_i64(kv->type, kv->p, v);
}

bool g4_gguf_get_f32(const g4_gguf *f, const char *key, float *v) {
    const gguf_kv *kv = kv_get(f, key);
    return kv && conv_f32(kv->type, kv->p, v);
}

bool g4_gguf_get_bool(const g4_gguf *f, const char *key, bool *v) {
    const gguf_kv *kv = kv_get(f, key);
    if (!kv || kv->type != G4_GGUF_BOOL) return false;
    if (v) *v = kv->p[0] != 0;
    return true;
}

bool g4_gguf_get_str(const g4_gguf *f, const char *key, const char **s, size_t *len) {
    const gguf_kv *kv = kv_get(f, key);
    if (!kv || kv->type != G4_GGUF_STRING) return false;
    if (s) *s = (const char *)kv->p;
    if (len) *len = (size_t)kv->n;
    return true;
}

bool g4_gguf_get_arr(const g4_gguf *f, const char *key, g4_gguf_vtype *elem_type, uint64_t *n, const void **data) {
    const gguf_kv *kv = kv_get(f, key);
    if (!kv || kv->type != G4_GGUF_ARRAY) return false;
    if (elem_type) *elem_type = (g4_gguf_vtype)kv->elem;
    if (n) *n = kv->n;
    if (data) *data = kv->elem == G4_GGUF_STRING ? NULL : (const void *)kv->p;
    return true;
}

bool g4_gguf_get_arr_str(const g4_gguf *f, const char *key, uint64_t i, const char **s, size_t *len) {
    const gguf_kv *kv = kv_get(f, key);
    if (!kv || kv->type != G4_GGUF_ARRAY || kv->elem != G4_GGUF_STRING || i >= kv->n) return false;
    const uint8_t *p = f->base + kv->soff[i];
    if (s) *s = (const char *)p + 8;
    if (len) *len = (size_t)le64(p);
    return true;
}

static const uint8_t *arr_elem(const g4_gguf *f, const char *key, uint64_t i, uint32_t *et) {
    const gguf_kv *kv = kv_get(f, key);
    if (!kv || kv->type != G4_GGUF_ARRAY || i >= kv->n) return NULL;
    size_t sz = vtype_size(kv->elem);
    if (!sz) return NULL;
    *et = kv->elem;
    return kv->p + i * sz;
}

bool g4_gguf_arr_i64(const g4_gguf *f, const char *key, uint64_t i, int64_t *v) {
    uint32_t et;
    const uint8_t *p = arr_elem(f, key, i, &et);
    return p && conv_i64(et, p, v);
}

bool g4_gguf_arr_f32(const g4_gguf *f, const char *key, uint64_t i, float *v) {
    uint32_t et;
    const uint8_t *p = arr_elem(f, key, i, &et);
    return p && conv_f32(et, p, v);
}

int64_t g4_gguf_n_tensors(const g4_gguf *f) { return f->n_tensors; }

const g4_tensor *g4_gguf_tensor(const g4_gguf *f, int64_t i) {
    return i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}

const g4_tensor *g4_gguf_find_tensor(const g4_gguf *f, const char *name) {
    int64_t i = hash_find(f->t_hash, f->t_cap, name, t_name, f);
    return i < 0 ? NULL : &f->tensors[i];
}

/* ---------------------------------------------------------------- writer */

typedef struct {
    char *key;
    uint32_t type;
    uint8_t *val; /* serialized value, without the type field */
    size_t len;
} wkv;

typedef struct {
    char *name;
    g4_type type;
    int n_dims;
    int64_t ne[G4_MAX_DIMS];
    const void *data;
    size_t nbytes;
} wtensor;

struct g4_gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *ts;
    size_t n_t, cap_t;
};

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

g4_gguf_writer *g4_gguf_writer_new(void) { return g4_calloc(1, sizeof(g4_gguf_writer)); }

void g4_gguf_writer_free(g4_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) { g4_free(w->kvs[i].key); g4_free(w->kvs[i].val); }
    for (size_t i = 0; i < w->n_t; i++) g4_free(w->ts[i].name);
    g4_free(w->kvs);
    g4_free(w->ts);
    g4_free(w);
}

/* Store (key, type, val); takes ownership of val even on failure. */
static g4_status put_kv(g4_gguf_writer *w, const char *key, uint32_t type, uint8_t *val, size_t len) {
    if (!val) return G4_ENOMEM;
    if (!key) { g4_free(val); return G4_EINVAL; }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kvs[i].key, key)) {
            g4_free(w->kvs[i].val);
            w->kvs[i].type = type;
            w->kvs[i].val = val;
            w->kvs[i].len = len;
            return G4_OK;
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *k = g4_realloc(w->kvs, cap * sizeof *k);
        if (!k) { g4_free(val); return G4_ENOMEM; }
        w->kvs = k;
        w->cap_kv = cap;
    }
    char *kc = g4_strdup(key);
    if (!kc) { g4_free(val); return G4_ENOMEM; }
    w->kvs[w->n_kv++] = (wkv){kc, type, val, len};
    return G4_OK;
}

static g4_status set_scalar(g4_gguf_writer *w, const char *key, uint32_t type, uint64_t bits) {
    size_t n = vtype_size(type);
    uint8_t *v = g4_malloc(n);
    if (v) for (size_t i = 0; i < n; i++) v[i] = (uint8_t)(bits >> (8 * i));
    return put_kv(w, key, type, v, n);
}

g4_status g4_gguf_set_u32(g4_gguf_writer *w, const char *key, uint32_t v) { return set_scalar(w, key, G4_GGUF_UINT32, v); }
g4_status g4_gguf_set_i32(g4_gguf_writer *w, const char *key, int32_t v) { return set_scalar(w, key, G4_GGUF_INT32, (uint32_t)v); }
g4_status g4_gguf_set_u64(g4_gguf_writer *w, const char *key, uint64_t v) { return set_scalar(w, key, G4_GGUF_UINT64, v); }
g4_status g4_gguf_set_bool(g4_gguf_writer *w, const char *key, bool v) { return set_scalar(w, key, G4_GGUF_BOOL, v ? 1 : 0); }

g4_status g4_gguf_set_f32(g4_gguf_writer *w, const char *key, float v) {
    uint32_t b;
    memcpy(&b, &v, 4);
    return set_scalar(w, key, G4_GGUF_FLOAT32, b);
}

g4_status g4_gguf_set_str(g4_gguf_writer *w, const char *key, const char *s, size_t len) {
    if (!s && len) return G4_EINVAL;
    if (len > SIZE_MAX - 8) return G4_ENOMEM;
    uint8_t *v = g4_malloc(8 + len);
    if (v) { put64(v, len); if (len) memcpy(v + 8, s, len); }
    return put_kv(w, key, G4_GGUF_STRING, v, 8 + len);
}

g4_status g4_gguf_set_arr(g4_gguf_writer *w, const char *key, g4_gguf_vtype elem_type, const void *data, uint64_t n) {
    size_t sz = vtype_size((uint32_t)elem_type);
    uint64_t bytes;
    if (!sz || (!data && n)) return G4_EINVAL;
    if (mul_ovf(n, sz, &bytes) || bytes > SIZE_MAX - 12) return G4_ENOMEM;
    uint8_t *v = g4_malloc(12 + (size_t)bytes);
    if (v) { put32(v, (uint32_t)elem_type); put64(v + 4, n); if (bytes) memcpy(v + 12, data, (size_t)bytes); }
    return put_kv(w, key, G4_GGUF_ARRAY, v, 12 + (size_t)bytes);
}

g4_status g4_gguf_set_arr_str(g4_gguf_writer *w, const char *key, const char *const *s, const size_t *lens, uint64_t n) {
    uint64_t total = 12;
    if (n && (!s || !lens)) return G4_EINVAL;
    for (uint64_t i = 0; i < n; i++) {
        if (!s[i] && lens[i]) return G4_EINVAL;
        if (add_ovf(total, 8, &total) || add_ovf(total, lens[i], &total) || total > SIZE_MAX) return G4_ENOMEM;
    }
    uint8_t *v = g4_malloc((size_t)total);
    if (v) {
        put32(v, G4_GGUF_STRING);
        put64(v + 4, n);
        size_t o = 12;
        for (uint64_t i = 0; i < n; i++) {
            put64(v + o, lens[i]);
            if (lens[i]) memcpy(v + o + 8, s[i], lens[i]);
            o += 8 + lens[i];
        }
    }
    return put_kv(w, key, G4_GGUF_ARRAY, v, (size_t)total);
}

g4_status g4_gguf_copy_kvs(g4_gguf_writer *w, const g4_gguf *f) {
    for (int64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kvs[i];
        uint8_t *v = g4_malloc(kv->raw_len);
        if (v) memcpy(v, f->base + kv->raw_off, kv->raw_len);
        g4_status st = put_kv(w, kv->key, kv->type, v, kv->raw_len);
        if (st) return st;
    }
    return G4_OK;
}

/* Bytes of a tensor, or 0 when the type is unknown, ne[0] is not a whole number of
 * blocks, or the size overflows. */
static size_t tensor_bytes(int type, const int64_t ne[G4_MAX_DIMS]) {
    const g4_type_info *ti = type >= 0 && type < G4_TYPE_COUNT ? g4_type_get(type) : NULL;
    uint64_t b;
    if (!ti || ti->blck <= 0 || ne[0] % ti->blck) return 0;
    if (mul_ovf((uint64_t)(ne[0] / ti->blck), ti->size, &b)) return 0;
    for (int d = 1; d < G4_MAX_DIMS; d++)
        if (mul_ovf(b, (uint64_t)ne[d], &b)) return 0;
    return b > SIZE_MAX ? 0 : (size_t)b;
}

g4_status g4_gguf_add_tensor(g4_gguf_writer *w, const char *name, g4_type type, int n_dims, const int64_t *ne,
                             const void *data, size_t nbytes) {
    int64_t full[G4_MAX_DIMS] = {1, 1, 1, 1};
    if (!name || !ne || n_dims < 1 || n_dims > G4_MAX_DIMS || (!data && nbytes)) return G4_EINVAL;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 1) return G4_EINVAL;
        full[d] = ne[d];
    }
    size_t want = tensor_bytes((int)type, full);
    if (!want || want != nbytes) return G4_EINVAL;
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->ts[i].name, name)) return G4_EINVAL;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 16;
        wtensor *t = g4_realloc(w->ts, cap * sizeof *t);
        if (!t) return G4_ENOMEM;
        w->ts = t;
        w->cap_t = cap;
    }
    char *nc = g4_strdup(name);
    if (!nc) return G4_ENOMEM;
    wtensor *t = &w->ts[w->n_t++];
    *t = (wtensor){.name = nc, .type = type, .n_dims = n_dims, .data = data, .nbytes = nbytes};
    memcpy(t->ne, full, sizeof full);
    return G4_OK;
}

/* Buffered output that remembers the first failure and counts bytes. */
typedef struct {
    FILE *fp;
    uint64_t pos;
    int failed;
} wout;

static void wbytes(wout *o, const void *p, size_t n) {
    if (o->failed || !n) return;
    if (fwrite(p, 1, n, o->fp) != n) o->failed = 1;
    o->pos += n;
}

static void w32(wout *o, uint32_t v) { uint8_t b[4]; put32(b, v); wbytes(o, b, 4); }
static void w64(wout *o, uint64_t v) { uint8_t b[8]; put64(b, v); wbytes(o, b, 8); }

static void wstr(wout *o, const char *s) {
    size_t n = strlen(s);
    w64(o, n);
    wbytes(o, s, n);
}

static void wpad(wout *o, uint32_t align) {
    static const uint8_t zero[64];
    uint64_t pad = (align - o->pos % align) % align;
    while (pad) {
        size_t k = (size_t)G4_MIN(pad, sizeof zero);
        wbytes(o, zero, k);
        pad -= k;
    }
}

g4_status g4_gguf_writer_write(g4_gguf_writer *w, const char *path, char *err) {
    uint32_t align = GGUF_DEFAULT_ALIGN;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, "general.alignment")) continue;
        if (w->kvs[i].type != G4_GGUF_UINT32 || !is_pow2(le32(w->kvs[i].val)))
            return g4_errf(err, G4_EINVAL, "%s: general.alignment must be a uint32 nonzero power of two", path);
        align = le32(w->kvs[i].val);
    }
    size_t plen = strlen(path);
    char *tmp = g4_malloc(plen + 5);
    if (!tmp) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    wout o = {.fp = fopen(tmp, "wb")};
    if (!o.fp) {
        g4_status st = g4_errf(err, G4_EIO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        g4_free(tmp);
        return st;
    }
    w32(&o, GGUF_MAGIC);
    w32(&o, 3);
    w64(&o, w->n_t);
    w64(&o, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        wstr(&o, w->kvs[i].key);
        w32(&o, w->kvs[i].type);
        wbytes(&o, w->kvs[i].val, w->kvs[i].len);
    }
    uint64_t off = 0;
    int too_big = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->ts[i];
        wstr(&o, t->name);
        w32(&o, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++) w64(&o, (uint64_t)t->ne[d]);
        w32(&o, (uint32_t)t->type);
        w64(&o, off);
        uint64_t padded = ((uint64_t)t->nbytes + align - 1) / align * align;
        too_big |= add_ovf(off, padded, &off);
    }
    wpad(&o, align);
    for (size_t i = 0; i < w->n_t && !too_big; i++) {
        wbytes(&o, w->ts[i].data, w->ts[i].nbytes);
        wpad(&o, align);
    }
    int e = errno;
    if (!too_big && !o.failed && fflush(o.fp) != 0) { o.failed = 1; e = errno; }
    if (fclose(o.fp) != 0 && !o.failed) { o.failed = 1; e = errno; }
    g4_status st = G4_OK;
    if (too_big) st = g4_errf(err, G4_EINVAL, "%s: tensor data too large", path);
    else if (o.failed) st = g4_errf(err, G4_EIO, "%s: write to %s failed: %s", path, tmp, strerror(e));
    else if (rename(tmp, path) != 0) st = g4_errf(err, G4_EIO, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
    if (st) unlink(tmp);
    g4_free(tmp);
    return st;
}
