/* http.c -- the HTTP layer of `gemma4 serve` on libmicrohttpd (see http.h).
 *
 * A request (g4_http_req) is shared by up to three owners, counted in refs: the MHD connection
 * (until the request-completed callback), the worker thread running a `worker` route (until its
 * handler returns), and an event-stream response (until MHD frees it).  Everything they share is
 * under r->mu.  The connection thread never blocks for long without looking at the socket: it
 * waits on r->cv in 100 ms steps and polls the fd for a hang-up, so a client that leaves is
 * noticed (g4_http_gone) whether it waits for a reply or reads a stream.
 */
#include "http.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SSE_MAX_BACKLOG (16u << 20) /* bytes a client may fall behind before it counts as gone */
#define SSE_KEEPALIVE_S 15.0
#define WAIT_STEP_MS 100

/* A connection while its next request is arriving (the watchdog's list). */
typedef struct conn_watch {
    int fd;
    double since;        /* when the current request began to arrive; 0 = being answered */
    struct conn_watch *prev, *next;
} conn_watch;

struct g4_http {
    struct MHD_Daemon *d;
    pthread_mutex_t wmu; /* the watch list */
    conn_watch *watch;
    pthread_t watchdog;
    int watchdog_started;
    pthread_cond_t wcv;
    g4_http_params p;
    char *key;
    size_t key_len;
    int port;
    atomic_int stopping;
    pthread_mutex_t mu; /* n_workers */
    pthread_cond_t cv;
    int n_workers;
};

enum { ST_PENDING, ST_REPLY, ST_SSE };

struct g4_http_req {
    g4_http *h;
    struct MHD_Connection *conn;
    int fd;
    char method[16];
    char *path;
    char *body;
    size_t len, cap;
    int too_big, answered; /* answered: a response is queued already (an early 413) */
    const g4_http_route *route;
    double t0;
    atomic_int gone;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    int state, status;
    char *rbody;
    size_t rlen;
    char ctype[48];
    char hname[4][32], hval[4][96];
    int nh;
    char *q; /* event stream backlog: q[qoff..qlen) not yet given to MHD */
    size_t qlen, qoff, qcap;
    int ended;
};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void req_unref(g4_http_req *r) {
    pthread_mutex_lock(&r->mu);
    int left = --r->refs;
    pthread_mutex_unlock(&r->mu);
    if (left) return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    g4_free(r->path);
    g4_free(r->body);
    g4_free(r->rbody);
    g4_free(r->q);
    g4_free(r);
}

/* The peer hung up (or the socket failed).  Pending request bytes (pipelining) are not a hang-up. */
static int fd_hung_up(int fd) {
    if (fd < 0) return 0;
    struct pollfd pf = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

int g4_http_gone(g4_http_req *r) { return atomic_load(&r->gone) || atomic_load(&r->h->stopping); }

static void wait_step(g4_http_req *r) { /* r->mu held */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += WAIT_STEP_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* ---- replies ---- */

const char *g4_http_method(const g4_http_req *r) { return r->method; }
const char *g4_http_path(const g4_http_req *r) { return r->path; }
const char *g4_http_body(const g4_http_req *r, size_t *len) {
    if (len) *len = r->len;
    return r->body ? r->body : "";
}

void g4_http_header(g4_http_req *r, const char *name, const char *value) {
    if (r->nh == 4) return;
    snprintf(r->hname[r->nh], sizeof r->hname[0], "%s", name);
    snprintf(r->hval[r->nh], sizeof r->hval[0], "%s", value);
    r->nh++;
}

void g4_http_reply(g4_http_req *r, int status, const char *content_type, const char *body, size_t len) {
    char *copy = g4_malloc(len + 1);
    pthread_mutex_lock(&r->mu);
    if (r->state == ST_PENDING) {
        if (copy) {
            memcpy(copy, body, len);
            r->rbody = copy, r->rlen = len, copy = NULL;
            r->status = status;
            snprintf(r->ctype, sizeof r->ctype, "%s", content_type);
        } else { /* out of memory: an empty 500 */
            r->rlen = 0;
            r->status = 500;
            snprintf(r->ctype, sizeof r->ctype, "text/plain");
        }
        r->state = ST_REPLY;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    g4_free(copy);
}

void g4_http_reply_json(g4_http_req *r, int status, const cJSON *j) {
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!s) { g4_http_reply(r, 500, "text/plain", "out of memory\n", 14); return; }
    g4_http_reply(r, status, "application/json", s, strlen(s));
    cJSON_free(s);
}

static const char *error_type(int status) {
    switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 503: return "unavailable_error";
    case 500: return "server_error";
    default: return "invalid_request_error";
    }
}

void g4_http_error(g4_http_req *r, int status, const char *type, const char *param, const char *code,
                   const char *fmt, ...) {
    char msg[G4_ERR_LEN + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
    if (e) {
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", type ? type : error_type(status));
        if (param) cJSON_AddStringToObject(e, "param", param);
        else cJSON_AddNullToObject(e, "param");
        if (code) cJSON_AddStringToObject(e, "code", code);
        else cJSON_AddNullToObject(e, "code");
    }
    g4_http_reply_json(r, status, e ? root : NULL);
    cJSON_Delete(root);
}

/* ---- event streams ---- */

void g4_http_sse_begin(g4_http_req *r) {
    pthread_mutex_lock(&r->mu);
    if (r->state == ST_PENDING) {
        r->state = ST_SSE;
        r->status = 200;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

static int sse_put(g4_http_req *r, const char *a, size_t na, const char *b, size_t nb, const char *c, size_t nc) {
    pthread_mutex_lock(&r->mu);
    int gone = g4_http_gone(r) || r->state != ST_SSE;
    if (!gone && r->qoff == r->qlen) r->qoff = r->qlen = 0;
    size_t need = r->qlen + na + nb + nc;
    if (!gone && need - r->qoff > SSE_MAX_BACKLOG) atomic_store(&r->gone, 1), gone = 1;
    if (!gone && need > r->qcap) {
        if (r->qoff) { /* compact first */
            memmove(r->q, r->q + r->qoff, r->qlen - r->qoff);
            r->qlen -= r->qoff, need -= r->qoff, r->qoff = 0;
        }
        if (need > r->qcap) {
            size_t cap = G4_MAX(need, 2 * r->qcap);
            char *q = g4_realloc(r->q, cap);
            if (!q) atomic_store(&r->gone, 1), gone = 1;
            else r->q = q, r->qcap = cap;
        }
    }
    if (!gone) {
        memcpy(r->q + r->qlen, a, na), r->qlen += na;
        memcpy(r->q + r->qlen, b, nb), r->qlen += nb;
        memcpy(r->q + r->qlen, c, nc), r->qlen += nc;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return gone;
}

int g4_http_sse_send(g4_http_req *r, const char *payload, size_t len) {
    return sse_put(r, "data: ", 6, payload, len, "\n\n", 2);
}

int g4_http_sse_send_json(g4_http_req *r, const cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    if (!s) { atomic_store(&r->gone, 1); return 1; }
    int gone = g4_http_sse_send(r, s, strlen(s));
    cJSON_free(s);
    return gone;
}

/* MHD asks for the next bytes of the stream (connection thread): wait for them, keep the
 * connection alive with comments, watch for a hang-up. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    g4_http_req *r = cls;
    ssize_t n = 0;
    double t_idle = now_s();
    pthread_mutex_lock(&r->mu);
    while (r->qoff == r->qlen && !r->ended && !g4_http_gone(r)) {
        wait_step(r);
        if (fd_hung_up(r->fd)) atomic_store(&r->gone, 1);
        if (r->qoff == r->qlen && now_s() - t_idle > SSE_KEEPALIVE_S) {
            static const char ka[] = ": keepalive\n\n";
            n = (ssize_t)G4_MIN(max, sizeof ka - 1);
            memcpy(buf, ka, (size_t)n);
            pthread_mutex_unlock(&r->mu);
            return n;
        }
    }
    if (r->qoff < r->qlen) {
        n = (ssize_t)G4_MIN(max, r->qlen - r->qoff);
        memcpy(buf, r->q + r->qoff, (size_t)n);
        r->qoff += (size_t)n;
    } else n = r->ended ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void sse_free(void *cls) { /* the response is done with: sent, or the client left */
    g4_http_req *r = cls;
    atomic_store(&r->gone, 1);
    req_unref(r);
}

/* ---- dispatch ---- */

static enum MHD_Result queue_reply(g4_http_req *r) {
    struct MHD_Response *resp;
    if (r->state == ST_SSE) {
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, r, sse_free);
        if (!resp) return MHD_NO;
        pthread_mutex_lock(&r->mu);
        r->refs++;
        pthread_mutex_unlock(&r->mu);
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    } else {
        resp = MHD_create_response_from_buffer(r->rlen, r->rbody ? r->rbody : (char *)"", MHD_RESPMEM_MUST_COPY);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", r->ctype);
    }
    for (int i = 0; i < r->nh; i++) MHD_add_response_header(resp, r->hname[i], r->hval[i]);
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    return ok;
}

static void *worker_main(void *arg) {
    g4_http_req *r = arg;
    g4_http *h = r->h;
    r->route->fn(r, h->p.ud);
    pthread_mutex_lock(&r->mu);
    int pending = r->state == ST_PENDING;
    r->ended = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (pending) g4_http_error(r, 500, NULL, NULL, NULL, "%s: the handler gave no reply", r->path);
    req_unref(r);
    pthread_mutex_lock(&h->mu);
    h->n_workers--;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static int auth_ok(g4_http *h, struct MHD_Connection *conn) {
    if (!h->key) return 1;
    const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!a || strncasecmp(a, "Bearer ", 7)) return 0;
    a += 7;
    while (*a == ' ') a++;
    size_t n = strlen(a);
    /* constant time in the key's content: every byte of the key is compared */
    volatile unsigned char d = (unsigned char)(n != h->key_len);
    for (size_t i = 0; i < h->key_len; i++) d |= (unsigned char)(h->key[i] ^ (i < n ? a[i] : 0));
    return d == 0;
}

static enum MHD_Result dispatch(g4_http *h, g4_http_req *r) {
    if (r->too_big)
        g4_http_error(r, 413, NULL, NULL, "request_too_large", "request body over %zu bytes (see --max-body)",
                      h->p.max_body);
    const g4_http_route *rt = NULL;
    char allow[64] = "";
    for (int i = 0; i < h->p.n_routes && !r->too_big; i++) {
        const g4_http_route *x = &h->p.routes[i];
        if (strcmp(x->path, r->path)) continue;
        if (!strcmp(x->method, r->method)) rt = x;
        else if (strlen(allow) + strlen(x->method) + 3 < sizeof allow)
            strcat(strcat(allow, *allow ? ", " : ""), x->method);
    }
    if (r->too_big) {
    } else if (!rt && !*allow) {
        g4_http_error(r, 404, NULL, NULL, "not_found", "no route %.200s %.200s", r->method, r->path);
    } else if (!rt) {
        g4_http_header(r, "Allow", allow);
        g4_http_error(r, 405, NULL, NULL, "method_not_allowed", "%.200s takes %s, not %.16s", r->path, allow, r->method);
    } else if (!rt->open && !auth_ok(h, r->conn)) {
        g4_http_header(r, "WWW-Authenticate", "Bearer");
        g4_http_error(r, 401, NULL, NULL, "invalid_api_key", "missing or wrong API key (Authorization: Bearer KEY)");
    } else if (!rt->worker) {
        r->route = rt;
        rt->fn(r, h->p.ud);
        if (r->state == ST_PENDING) g4_http_error(r, 500, NULL, NULL, NULL, "%s: the handler gave no reply", r->path);
    } else {
        r->route = rt;
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&h->mu);
        h->n_workers++;
        pthread_mutex_unlock(&h->mu);
        r->refs++; /* no other thread has r yet */
        if (pthread_create(&th, &at, worker_main, r)) {
            r->refs--;
            pthread_mutex_lock(&h->mu);
            h->n_workers--;
            pthread_mutex_unlock(&h->mu);
            g4_http_header(r, "Retry-After", "1");
            g4_http_error(r, 503, NULL, NULL, NULL, "cannot start a thread for the request");
        }
        pthread_attr_destroy(&at);
        pthread_mutex_lock(&r->mu);
        while (r->state == ST_PENDING) {
            wait_step(r);
            if (fd_hung_up(r->fd)) atomic_store(&r->gone, 1);
        }
        pthread_mutex_unlock(&r->mu);
        if (atomic_load(&r->gone)) { r->status = 499; return MHD_NO; } /* nobody to answer */
    }
    return queue_reply(r);
}

/* ---- the watchdog: requests must arrive within read_timeout ---- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx, enum MHD_ConnectionNotificationCode toe) {
    g4_http *h = cls;
    pthread_mutex_lock(&h->wmu);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_watch *w = g4_calloc(1, sizeof *w);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (w && ci) {
            w->fd = ci->connect_fd;
            w->since = now_s();
            w->next = h->watch;
            if (h->watch) h->watch->prev = w;
            h->watch = w;
        } else g4_free(w), w = NULL;
        *socket_ctx = w;
    } else if (*socket_ctx) { /* closed: MHD closes the socket after this returns */
        conn_watch *w = *socket_ctx;
        if (w->prev) w->prev->next = w->next;
        else h->watch = w->next;
        if (w->next) w->next->prev = w->prev;
        g4_free(w);
        *socket_ctx = NULL;
    }
    pthread_mutex_unlock(&h->wmu);
}

/* The connection's request has fully arrived (since = 0) or a new one may begin (since = now). */
static void watch_mark(g4_http *h, struct MHD_Connection *conn, int arriving) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!ci || !ci->socket_context) return;
    pthread_mutex_lock(&h->wmu);
    ((conn_watch *)ci->socket_context)->since = arriving ? now_s() : 0;
    pthread_mutex_unlock(&h->wmu);
}

static void *watchdog(void *arg) {
    g4_http *h = arg;
    pthread_mutex_lock(&h->wmu);
    while (!atomic_load(&h->stopping)) {
        const double now = now_s();
        for (conn_watch *w = h->watch; w; w = w->next)
            if (w->since > 0 && now - w->since > h->p.read_timeout) {
                shutdown(w->fd, SHUT_RDWR); /* its thread sees the end of the stream and closes it */
                w->since = 0;
            }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&h->wcv, &h->wmu, &ts);
    }
    pthread_mutex_unlock(&h->wmu);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls) {
    (void)version;
    g4_http *h = cls;
    g4_http_req *r = *con_cls;
    if (!r) {
        r = g4_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->path = g4_strdup(url ? url : "/");
        if (!r->path) { g4_free(r); return MHD_NO; }
        pthread_mutex_init(&r->mu, NULL);
        pthread_cond_init(&r->cv, NULL);
        r->refs = 1;
        r->h = h;
        r->conn = conn;
        r->t0 = now_s();
        snprintf(r->method, sizeof r->method, "%s", method);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        r->fd = ci ? ci->connect_fd : -1;
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > h->p.max_body) {
            r->too_big = 1;
            watch_mark(h, conn, 0);
            return dispatch(h, r); /* answer now, without reading the body */
        }
        return MHD_YES;
    }
    if (*data_size) {
        /* over the limit without a Content-Length (chunked): read on and drop the rest, so the
         * client is not reset while it sends and does see the 413; answer at once past twice it */
        if (!r->too_big && r->len + *data_size > h->p.max_body) {
            r->too_big = 1;
            g4_free(r->body), r->body = NULL, r->cap = 0;
        }
        if (r->too_big && !r->answered && (r->len += *data_size) > 2 * h->p.max_body) {
            *data_size = 0;
            watch_mark(h, conn, 0);
            return dispatch(h, r);
        }
        if (!r->too_big) {
            if (r->len + *data_size + 1 > r->cap) {
                size_t cap = G4_MIN(G4_MAX(2 * r->cap, r->len + *data_size + 1), h->p.max_body + 1);
                char *b = g4_realloc(r->body, cap);
                if (!b) return MHD_NO;
                r->body = b, r->cap = cap;
            }
            memcpy(r->body + r->len, data, *data_size);
            r->len += *data_size;
            r->body[r->len] = 0;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    watch_mark(h, conn, 0);
    return dispatch(h, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    g4_http *h = cls;
    g4_http_req *r = *con_cls;
    watch_mark(h, conn, 1); /* a kept-alive connection's next request has read_timeout again */
    if (!r) return;
    *con_cls = NULL;
    if (h->p.log) {
        char line[400], path[256];
        size_t i = 0;
        for (; r->path[i] && i < sizeof path - 1; i++) /* no control bytes in the log */
            path[i] = (unsigned char)r->path[i] < 0x20 || r->path[i] == 0x7f ? '?' : r->path[i];
        path[i] = 0;
        int status = r->status ? r->status : 499;
        if (r->state == ST_SSE && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) status = 499;
        snprintf(line, sizeof line, "%s %s %d %.0f ms", r->method, path, status, (now_s() - r->t0) * 1000);
        h->p.log(h->p.log_ud, line);
    }
    atomic_store(&r->gone, 1); /* nobody reads what a worker still writes */
    req_unref(r);
}

g4_status g4_http_start(g4_http **out, const g4_http_params *p, char *err) {
    *out = NULL;
    const char *host = !p->host || !strcmp(p->host, "localhost") ? "127.0.0.1" : p->host;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)p->port)};
    int v6 = strchr(host, ':') != NULL;
    if (p->port < 0 || p->port > 65535) return g4_errf(err, G4_EINVAL, "--port: %d is not a port (want 0..65535)", p->port);
    if (v6 ? inet_pton(AF_INET6, host, &a6.sin6_addr) != 1 : inet_pton(AF_INET, host, &a4.sin_addr) != 1)
        return g4_errf(err, G4_EINVAL, "--host: '%s' is not a numeric IPv4 or IPv6 address", host);
    g4_http *h = g4_calloc(1, sizeof *h);
    if (!h) return g4_errf(err, G4_ENOMEM, "http: out of memory");
    h->p = *p;
    if (!h->p.max_body) h->p.max_body = 32u << 20;
    if (!h->p.max_connections) h->p.max_connections = 256;
    if (h->p.read_timeout <= 0) h->p.read_timeout = 30;
    if (p->api_key && *p->api_key) {
        h->key = g4_strdup(p->api_key);
        if (!h->key) { g4_free(h); return g4_errf(err, G4_ENOMEM, "http: out of memory"); }
        h->key_len = strlen(h->key);
    }
    h->p.api_key = NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_mutex_init(&h->wmu, NULL);
    pthread_cond_init(&h->wcv, NULL);
    if (pthread_create(&h->watchdog, NULL, watchdog, h)) {
        g4_http_stop(h);
        return g4_errf(err, G4_ENOMEM, "http: cannot start a thread");
    }
    h->watchdog_started = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
                     MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, (uint16_t)p->port, NULL, NULL, on_request, h,
                            MHD_OPTION_SOCK_ADDR, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->p.max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_END);
    if (!h->d) {
        int e = errno;
        g4_http_stop(h);
        return g4_errf(err, G4_EIO, "http: cannot listen on %s:%d (%s)", host, p->port, strerror(e));
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : p->port;
    *out = h;
    return G4_OK;
}

int g4_http_port(const g4_http *h) { return h->port; }

void g4_http_stop(g4_http *h) {
    if (!h) return;
    atomic_store(&h->stopping, 1);
    if (h->watchdog_started) {
        pthread_mutex_lock(&h->wmu);
        pthread_cond_signal(&h->wcv);
        pthread_mutex_unlock(&h->wmu);
        pthread_join(h->watchdog, NULL);
    }
    if (h->d) MHD_stop_daemon(h->d); /* joins the connection threads */
    pthread_mutex_lock(&h->mu);
    while (h->n_workers) pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->wmu);
    pthread_cond_destroy(&h->wcv);
    g4_free(h->key);
    g4_free(h);
}
