/* safetensors.c -- read Hugging Face .safetensors files (one file or an indexed shard set).
 *
 * A file is: u64 little-endian header length N, N bytes of JSON, then the data buffer.
 * The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
 * relative to the data buffer) plus an optional "__metadata__" object of strings.
 * We mmap each file read-only and hand out g4_tensor views into the mapping, so opening a
 * 24 GB checkpoint costs one header parse.  Everything in the header is checked before a
 * tensor is exposed: exact non-negative integers, shape x dtype size == offset span (with
 * overflow checks), spans inside the data buffer, no two tensors overlapping, no duplicate
 * names (also across shards).  Tensors are kept sorted by name so lookup is a bsearch.
 * The header is copied into a NUL-padded buffer before cJSON sees it, so the parser never
 * reads past our bytes whatever the file says.
 */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER 100000000ull   /* same cap as the reference implementation */
#define ST_MAX_INDEX (64u << 20)      /* model.safetensors.index.json */
#define ST_EXACT_MAX 9007199254740992.0 /* 2^53: bigger JSON numbers are not exact doubles */
#define ST_PAD 16                     /* zero bytes after a copied JSON text */

typedef struct {
    char *path;          /* file name used in messages */
    const uint8_t *base; /* the whole file */
    size_t size;
    int mapped;          /* we own an mmap of base..size */
    char *names;         /* this file's tensor names, NUL separated, one allocation */
} st_file;

struct g4_st {
    int n_files;
    st_file *files;
    int64_t n;
    g4_tensor *tensors; /* sorted by name */
    int *file_of;       /* tensors[i] lives in files[file_of[i]] */
};

/* A tensor while the set is being built. */
typedef struct {
    g4_tensor t;
    int file;
    uint64_t begin, end;
} st_ent;

typedef struct {
    st_ent *v;
    int64_t n, cap;
} st_ents;

/* ---- small helpers -------------------------------------------------------------- */

static uint64_t rd_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A JSON number that is an exact integer in [0, 2^53). */
static int json_u53(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0) || !(d < ST_EXACT_MAX)) return 0; /* also rejects NaN */
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return 0;
    *out = u;
    return 1;
}

/* Last member called key (Python's json keeps the last of duplicate keys). */
static const cJSON *obj_get(const cJSON *obj, const char *key) {
    const cJSON *hit = NULL, *it;
    cJSON_ArrayForEach(it, obj) {
        if (it->string && strcmp(it->string, key) == 0) hit = it;
    }
    return hit;
}

/* Parse len bytes of JSON text (not NUL-terminated) from a padded private copy.
 * Trailing whitespace is allowed (writers pad headers with spaces), anything else is not. */
static g4_status json_parse(cJSON **out, const void *text, size_t len, const char *what, char *err) {
    *out = NULL;
    char *buf = g4_malloc(len + ST_PAD);
    if (!buf) return g4_errf(err, G4_ENOMEM, "%s: out of memory copying %zu bytes of JSON", what, len);
    memcpy(buf, text, len);
    memset(buf + len, 0, ST_PAD);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        long at = (end && end >= buf && end <= buf + len) ? (long)(end - buf) : -1;
        g4_free(buf);
        return g4_errf(err, G4_EFORMAT, "%s: invalid JSON (error near byte %ld of %zu)", what, at, len);
    }
    for (const char *p = end; p < buf + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            long at = (long)(p - buf);
            cJSON_Delete(root);
            g4_free(buf);
            return g4_errf(err, G4_EFORMAT, "%s: unexpected bytes after the JSON (at byte %ld of %zu)",
                           what, at, len);
        }
    }
    g4_free(buf);
    *out = root;
    return G4_OK;
}

typedef struct {
    const char *name;
    int size;       /* bytes per element; 0 = known but not supported */
    g4_type type;
} st_dtype;

static const st_dtype st_dtypes[] = {
    {"F32", 4, G4_TYPE_F32}, {"F16", 2, G4_TYPE_F16}, {"BF16", 2, G4_TYPE_BF16},
    {"F64", 0, 0}, {"I64", 0, 0}, {"I32", 0, 0}, {"I16", 0, 0}, {"I8", 0, 0},
    {"U64", 0, 0}, {"U32", 0, 0}, {"U16", 0, 0}, {"U8", 0, 0}, {"BOOL", 0, 0},
    {"F8_E5M2", 0, 0}, {"F8_E4M3", 0, 0}, {"F8_E8M0", 0, 0}, {"F6_E2M3", 0, 0},
    {"F6_E3M2", 0, 0}, {"F4", 0, 0}, {"C64", 0, 0},
};

static const st_dtype *dtype_find(const char *s) {
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(st_dtypes[i].name, s) == 0) return &st_dtypes[i];
    return NULL;
}

static g4_status ents_reserve(st_ents *e, int64_t more, const char *what, char *err) {
    if (e->n + more <= e->cap) return G4_OK;
    int64_t cap = G4_MAX(e->cap * 2, e->n + more);
    if ((uint64_t)cap > SIZE_MAX / sizeof(st_ent))
        return g4_errf(err, G4_ENOMEM, "%s: too many tensors (%lld)", what, (long long)cap);
    st_ent *v = g4_realloc(e->v, (size_t)cap * sizeof(st_ent));
    if (!v) return g4_errf(err, G4_ENOMEM, "%s: out of memory for %lld tensors", what, (long long)cap);
    e->v = v;
    e->cap = cap;
    return G4_OK;
}

/* ---- one file's header -------------------------------------------------------------- */

/* Check one tensor entry and fill *t (name not set). */
static g4_status parse_entry(const cJSON *j, const char *path, const char *name, const uint8_t *data,
                             uint64_t dsize, st_ent *t, char *err) {
    if (!cJSON_IsObject(j))
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: entry is not a JSON object", path, name);
    const cJSON *jd = obj_get(j, "dtype"), *js = obj_get(j, "shape"), *jo = obj_get(j, "data_offsets");
    if (!cJSON_IsString(jd))
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: \"dtype\" missing or not a string", path, name);
    const st_dtype *dt = dtype_find(jd->valuestring);
    if (!dt) return g4_errf(err, G4_EFORMAT, "%s: tensor %s: unknown dtype %s", path, name, jd->valuestring);
    if (!dt->size)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: tensor %s: dtype %s not supported yet (want F32, F16 or BF16)",
                       path, name, dt->name);
    if (!cJSON_IsArray(js))
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: \"shape\" missing or not an array", path, name);
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: \"data_offsets\" is not an array of 2 integers",
                       path, name);
    int nd = cJSON_GetArraySize(js);
    if (nd > G4_MAX_DIMS)
        return g4_errf(err, G4_EUNSUPPORTED, "%s: tensor %s: %d dims (want at most %d)", path, name, nd,
                       G4_MAX_DIMS);
    uint64_t dims[G4_MAX_DIMS], nel = 1;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, js) {
        if (!json_u53(it, &dims[i]))
            return g4_errf(err, G4_EFORMAT, "%s: tensor %s: shape[%d] is not a non-negative integer", path,
                           name, i);
        if (__builtin_mul_overflow(nel, dims[i], &nel))
            return g4_errf(err, G4_EFORMAT, "%s: tensor %s: shape product overflows", path, name);
        i++;
    }
    uint64_t off[2];
    if (!json_u53(jo->child, &off[0]) || !json_u53(jo->child->next, &off[1]))
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: data_offsets are not non-negative integers", path,
                       name);
    uint64_t nbytes;
    if (__builtin_mul_overflow(nel, (uint64_t)dt->size, &nbytes))
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: byte size overflows", path, name);
    if (off[0] > off[1])
        return g4_errf(err, G4_EFORMAT, "%s: tensor %s: data_offsets begin > end (got %llu > %llu)", path,
                       name, (unsigned long long)off[0], (unsigned long long)off[1]);
    if (off[1] > dsize)
        return g4_errf(err, G4_EFORMAT,
                       "%s: tensor %s: data_offsets end past the data buffer (got %llu, want <= %llu)", path,
                       name, (unsigned long long)off[1], (unsigned long long)dsize);
    if (off[1] - off[0] != nbytes)
        return g4_errf(err, G4_EFORMAT,
                       "%s: tensor %s: data_offsets span %llu bytes, shape x %s needs %llu", path, name,
                       (unsigned long long)(off[1] - off[0]), dt->name, (unsigned long long)nbytes);
    memset(t, 0, sizeof *t);
    t->t.type = dt->type;
    t->t.n_dims = nd ? nd : 1;
    for (int d = 0; d < G4_MAX_DIMS; d++) t->t.ne[d] = 1;
    for (int d = 0; d < nd; d++) t->t.ne[d] = (int64_t)dims[nd - 1 - d]; /* reverse into ggml order */
    t->t.data = data + off[0];
    t->t.nbytes = (size_t)nbytes;
    t->begin = off[0];
    t->end = off[1];
    return G4_OK;
}

static int cmp_begin(const void *a, const void *b) {
    const st_ent *x = *(const st_ent *const *)a, *y = *(const st_ent *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* No two non-empty tensors of one file may share bytes. */
static g4_status check_overlap(st_ent *v, int64_t n, const char *path, char *err) {
    if (n < 2) return G4_OK;
    st_ent **p = g4_malloc((size_t)n * sizeof *p);
    if (!p) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (v[i].end > v[i].begin) p[m++] = &v[i];
    qsort(p, (size_t)m, sizeof *p, cmp_begin);
    g4_status st = G4_OK;
    for (int64_t i = 1; i < m; i++) {
        if (p[i]->begin < p[i - 1]->end) {
            st = g4_errf(err, G4_EFORMAT, "%s: tensors %s and %s overlap in the data buffer", path,
                         p[i - 1]->t.name, p[i]->t.name);
            break;
        }
    }
    g4_free(p);
    return st;
}

/* Parse the header of st->files[fi] and append its tensors to e. */
static g4_status parse_file(g4_st *st, int fi, st_ents *e, char *err) {
    st_file *f = &st->files[fi];
    if (f->size < 8)
        return g4_errf(err, G4_EFORMAT, "%s: too small for a safetensors file (got %zu bytes, want >= 8)",
                       f->path, f->size);
    uint64_t hlen = rd_le64(f->base);
    if (hlen > ST_MAX_HEADER)
        return g4_errf(err, G4_EFORMAT, "%s: header length too large (got %llu, want <= %llu)", f->path,
                       (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return g4_errf(err, G4_EFORMAT, "%s: header length runs past the end of the file (got %llu, want <= %zu)",
                       f->path, (unsigned long long)hlen, f->size - 8);
    const uint8_t *data = f->base + 8 + hlen;
    uint64_t dsize = f->size - 8 - hlen;

    cJSON *root;
    g4_status s = json_parse(&root, f->base + 8, (size_t)hlen, f->path, err);
    if (s) return s;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return g4_errf(err, G4_EFORMAT, "%s: header is not a JSON object", f->path);
    }
    /* Pass 1: count tensors, size the name block, check metadata. */
    int64_t n = 0;
    size_t name_bytes = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "__metadata__") == 0) {
            if (cJSON_IsNull(it)) continue;
            if (!cJSON_IsObject(it)) {
                s = g4_errf(err, G4_EFORMAT, "%s: __metadata__ is not a JSON object", f->path);
                goto out;
            }
            const cJSON *m;
            cJSON_ArrayForEach(m, it) {
                if (!cJSON_IsString(m)) {
                    s = g4_errf(err, G4_EFORMAT, "%s: __metadata__.%s is not a string", f->path, m->string);
                    goto out;
                }
            }
            continue;
        }
        if (!it->string[0]) {
            s = g4_errf(err, G4_EFORMAT, "%s: tensor with an empty name", f->path);
            goto out;
        }
        n++;
        name_bytes += strlen(it->string) + 1;
    }
    if ((s = ents_reserve(e, n, f->path, err))) goto out;
    f->names = g4_malloc(name_bytes ? name_bytes : 1);
    if (!f->names) {
        s = g4_errf(err, G4_ENOMEM, "%s: out of memory for tensor names", f->path);
        goto out;
    }
    /* Pass 2: check and record each tensor. */
    int64_t first = e->n;
    char *np = f->names;
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "__metadata__") == 0) continue;
        st_ent *t = &e->v[e->n];
        if ((s = parse_entry(it, f->path, it->string, data, dsize, t, err))) goto out;
        size_t l = strlen(it->string) + 1;
        memcpy(np, it->string, l);
        t->t.name = np;
        t->file = fi;
        np += l;
        e->n++;
    }
    s = check_overlap(e->v + first, e->n - first, f->path, err);
out:
    cJSON_Delete(root);
    return s;
}

/* ---- the set ------------------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const st_ent *)a)->t.name, ((const st_ent *)b)->t.name);
}

/* Sort by name, refuse duplicates, move the entries into st. */
static g4_status finish(g4_st *st, st_ents *e, char *err) {
    if (e->n) qsort(e->v, (size_t)e->n, sizeof *e->v, cmp_name);
    for (int64_t i = 1; i < e->n; i++) {
        if (strcmp(e->v[i].t.name, e->v[i - 1].t.name) == 0)
            return g4_errf(err, G4_EFORMAT, "%s: tensor %s appears twice (also in %s)",
                           st->files[e->v[i].file].path, e->v[i].t.name, st->files[e->v[i - 1].file].path);
    }
    st->tensors = g4_malloc((size_t)(e->n ? e->n : 1) * sizeof *st->tensors);
    st->file_of = g4_malloc((size_t)(e->n ? e->n : 1) * sizeof *st->file_of);
    if (!st->tensors || !st->file_of)
        return g4_errf(err, G4_ENOMEM, "%s: out of memory for %lld tensors", st->files[0].path, (long long)e->n);
    for (int64_t i = 0; i < e->n; i++) {
        st->tensors[i] = e->v[i].t;
        st->file_of[i] = e->v[i].file;
    }
    st->n = e->n;
    return G4_OK;
}

static g4_st *st_new(int n_files) {
    g4_st *st = g4_calloc(1, sizeof *st);
    if (!st) return NULL;
    st->files = g4_calloc((size_t)n_files, sizeof *st->files);
    if (!st->files) {
        g4_free(st);
        return NULL;
    }
    st->n_files = n_files;
    return st;
}

/* mmap path read-only into f. */
static g4_status map_file(st_file *f, const char *path, char *err) {
    f->path = g4_strdup(path);
    if (!f->path) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return g4_errf(err, G4_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return g4_errf(err, G4_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return g4_errf(err, G4_EIO, "%s: not a regular file", path);
    }
    if (sb.st_size < 8 || (uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return g4_errf(err, G4_EFORMAT, "%s: too small for a safetensors file (got %lld bytes, want >= 8)",
                       path, (long long)sb.st_size);
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return g4_errf(err, G4_EIO, "%s: mmap failed: %s", path, strerror(e));
    f->base = p;
    f->size = (size_t)sb.st_size;
    f->mapped = 1;
    return G4_OK;
}

void g4_st_close(g4_st *st) {
    if (!st) return;
    for (int i = 0; i < st->n_files; i++) {
        st_file *f = &st->files[i];
        if (f->mapped) munmap((void *)f->base, f->size);
        g4_free(f->path);
        g4_free(f->names);
    }
    g4_free(st->files);
    g4_free(st->tensors);
    g4_free(st->file_of);
    g4_free(st);
}

g4_status g4_st_open_mem(g4_st **out, const void *data, size_t size, const char *name, char *err) {
    *out = NULL;
    if (!name) name = "<memory>";
    if (!data && size) return g4_errf(err, G4_EINVAL, "%s: NULL data", name);
    g4_st *st = st_new(1);
    if (!st) return g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
    st_ents e = {0};
    g4_status s = G4_OK;
    st->files[0].path = g4_strdup(name);
    if (!st->files[0].path) {
        s = g4_errf(err, G4_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    st->files[0].base = data;
    st->files[0].size = size;
    if ((s = parse_file(st, 0, &e, err))) goto out;
    s = finish(st, &e, err);
out:
    g4_free(e.v);
    if (s) g4_st_close(st);
    else *out = st;
    return s;
}

g4_status g4_st_open_file(g4_st **out, const char *path, char *err) {
    *out = NULL;
    g4_st *st = st_new(1);
    if (!st) return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    st_ents e = {0};
    g4_status s = map_file(&st->files[0], path, err);
    if (!s) s = parse_file(st, 0, &e, err);
    if (!s) s = finish(st, &e, err);
    g4_free(e.v);
    if (s) g4_st_close(st);
    else *out = st;
    return s;
}

static char *path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = g4_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* Read a small whole file into a new buffer. */
static g4_status read_small(const char *path, size_t max, char **out, size_t *len, char *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return g4_errf(err, G4_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return g4_errf(err, G4_EIO, "%s: not a readable regular file", path);
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return g4_errf(err, G4_EFORMAT, "%s: too large (got %lld bytes, want <= %zu)", path,
                       (long long)sb.st_size, max);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = g4_malloc(n + 1);
    if (!buf) {
        close(fd);
        return g4_errf(err, G4_ENOMEM, "%s: out of memory", path);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = errno;
            close(fd);
            g4_free(buf);
            return g4_errf(err, G4_EIO, "%s: read failed: %s", path, r < 0 ? strerror(e) : "short file");
        }
        got += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return G4_OK;
}

/* A shard name must be a plain file name in the same directory. */
static int shard_name_ok(const char *s) {
    return s[0] && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

static g4_status open_index(g4_st **out, const char *dir, const char *ipath, char *err) {
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    const char **shards = NULL;
    g4_st *st = NULL;
    st_ents e = {0};
    char *spath = NULL;
    g4_status s = read_small(ipath, ST_MAX_INDEX, &text, &len, err);
    if (s) return s;
    if ((s = json_parse(&root, text, len, ipath, err))) goto out;
    const cJSON *wm = cJSON_IsObject(root) ? obj_get(root, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        s = g4_errf(err, G4_EFORMAT, "%s: no \"weight_map\" object", ipath);
        goto out;
    }
    /* Distinct shard names, in order of first use. */
    int n_map = cJSON_GetArraySize(wm), n_sh = 0;
    if (n_map == 0) {
        s = g4_errf(err, G4_EFORMAT, "%s: weight_map is empty", ipath);
        goto out;
    }
    shards = g4_malloc((size_t)n_map * sizeof *shards);
    if (!shards) {
        s = g4_errf(err, G4_ENOMEM, "%s: out of memory", ipath);
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, wm) {
        if (!cJSON_IsString(it)) {
            s = g4_errf(err, G4_EFORMAT, "%s: weight_map.%s is not a string", ipath, it->string);
            goto out;
        }
        if (!shard_name_ok(it->valuestring)) {
            s = g4_errf(err, G4_EFORMAT, "%s: weight_map.%s: shard \"%s\" is not a plain file name", ipath,
                        it->string, it->valuestring);
            goto out;
        }
        int k = 0;
        while (k < n_sh && strcmp(shards[k], it->valuestring) != 0) k++;
        if (k == n_sh) shards[n_sh++] = it->valuestring;
    }
    st = st_new(n_sh);
    if (!st) {
        s = g4_errf(err, G4_ENOMEM, "%s: out of memory", ipath);
        goto out;
    }
    for (int k = 0; k < n_sh; k++) {
        spath = path_join(dir, shards[k]);
        if (!spath) {
            s = g4_errf(err, G4_ENOMEM, "%s: out of memory", ipath);
            goto out;
        }
        if ((s = map_file(&st->files[k], spath, err))) goto out;
        g4_free(spath);
        spath = NULL;
        if ((s = parse_file(st, k, &e, err))) goto out;
    }
    if ((s = finish(st, &e, err))) goto out;
    /* Every tensor of the map must be in the shard the map names. */
    cJSON_ArrayForEach(it, wm) {
        const g4_tensor *t = g4_st_find(st, it->string);
        int k = 0;
        while (strcmp(shards[k], it->valuestring) != 0) k++;
        if (!t) {
            s = g4_errf(err, G4_EFORMAT, "%s: tensor %s listed in weight_map is not in %s", ipath, it->string,
                        st->files[k].path);
            goto out;
        }
        int have = st->file_of[t - st->tensors];
        if (have != k) {
            s = g4_errf(err, G4_EFORMAT, "%s: tensor %s is in %s, weight_map says %s", ipath, it->string,
                        st->files[have].path, st->files[k].path);
            goto out;
        }
    }
out:
    g4_free(spath);
    g4_free(e.v);
    g4_free(shards);
    cJSON_Delete(root);
    g4_free(text);
    if (s) g4_st_close(st);
    else *out = st;
    return s;
}

g4_status g4_st_open_dir(g4_st **out, const char *dir, char *err) {
    *out = NULL;
    char *single = path_join(dir, "model.safetensors");
    char *index = path_join(dir, "model.safetensors.index.json");
    g4_status s;
    struct stat sb;
    if (!single || !index) {
        s = g4_errf(err, G4_ENOMEM, "%s: out of memory", dir);
    } else if (stat(single, &sb) == 0) {
        s = g4_st_open_file(out, single, err);
    } else if (stat(index, &sb) == 0) {
        s = open_index(out, dir, index, err);
    } else if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        s = g4_errf(err, G4_EIO, "%s: not a directory", dir);
    } else {
        s = g4_errf(err, G4_EIO, "%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    g4_free(single);
    g4_free(index);
    return s;
}

int64_t g4_st_n_tensors(const g4_st *st) { return st->n; }

const g4_tensor *g4_st_tensor(const g4_st *st, int64_t i) {
    return (i >= 0 && i < st->n) ? &st->tensors[i] : NULL;
}

const g4_tensor *g4_st_find(const g4_st *st, const char *name) {
    int64_t lo = 0, hi = st->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return &st->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
