/* http.h -- the HTTP layer of `gemma4 serve`: a libmicrohttpd daemon with a route table, a body
 * size limit, an optional API key, OpenAI-shaped error replies, one log line per request and
 * Server-Sent Events.
 *
 * Every connection has its own thread (MHD_USE_THREAD_PER_CONNECTION); a watchdog thread closes
 * connections whose request takes longer than read_timeout to arrive (slow-loris clients), while the
 * idle timeout (60 s) closes silent ones.  A route marked `worker`
 * runs on a thread of its own, so that it may block (g4_engine_generate) and stream: the
 * connection thread waits until the handler has either replied or begun an event stream, and
 * meanwhile watches the socket, so g4_http_gone() turns true soon after the client goes away --
 * before the reply (queued, prefilling, non-streaming generation) and while streaming.
 *
 * Handlers reply exactly once (g4_http_reply*, g4_http_error, or g4_http_sse_begin ... the
 * handler's return ends the stream); a worker handler that returns without a reply gets a 500.
 * The library prints nothing: the request log goes to params.log.
 */
#ifndef G4_HTTP_H
#define G4_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../core/common.h"

typedef struct g4_http g4_http;
typedef struct g4_http_req g4_http_req;
typedef void (*g4_http_fn)(g4_http_req *r, void *ud);

typedef struct {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact match, query string excluded */
    g4_http_fn fn;
    int worker;         /* 1: run on a thread of its own (may block, may stream) */
    int open;           /* 1: no API key needed (the health check, the chat page) */
} g4_http_route;

typedef struct {
    const char *host;        /* numeric IPv4/IPv6 address or "localhost" (NULL = 127.0.0.1) */
    int port;                /* 0 = any free port (see g4_http_port) */
    const char *api_key;     /* NULL or "" = none; else "Authorization: Bearer KEY" */
    size_t max_body;         /* request bodies over this get 413 (0 = 32 MiB) */
    int max_connections;     /* 0 = 256 */
    int read_timeout;        /* seconds a request's headers and body may take to arrive (0 = 30); past
                              * it the connection is closed (slow clients cannot hold threads) */
    const g4_http_route *routes;
    int n_routes;
    void *ud;                /* handed to every route */
    void (*log)(void *log_ud, const char *line); /* "METHOD PATH STATUS MS" per request; NULL = none */
    void *log_ud;
} g4_http_params;

/* Start listening (threads run until g4_http_stop).  Errors: G4_EINVAL (bad address), G4_EIO
 * (the port cannot be bound), G4_ENOMEM. */
g4_status g4_http_start(g4_http **out, const g4_http_params *p, char *err);
int g4_http_port(const g4_http *h);
/* Stop accepting, make every g4_http_gone() true, wait for all handlers and connections, free. */
void g4_http_stop(g4_http *h);

/* ---- in a handler ---- */
const char *g4_http_method(const g4_http_req *r);
const char *g4_http_path(const g4_http_req *r);
const char *g4_http_body(const g4_http_req *r, size_t *len); /* NUL-terminated */
/* 1 once the client has gone away or the server is stopping: stop working on the request. */
int g4_http_gone(g4_http_req *r);

/* An extra response header for the reply that follows (at most 4; e.g. Retry-After). */
void g4_http_header(g4_http_req *r, const char *name, const char *value);
/* Reply with a copy of body. */
void g4_http_reply(g4_http_req *r, int status, const char *content_type, const char *body, size_t len);
void g4_http_reply_json(g4_http_req *r, int status, const cJSON *j);
/* {"error":{"message","type","param","code"}}; type NULL = by status; param/code NULL = null. */
void g4_http_error(g4_http_req *r, int status, const char *type, const char *param, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Server-Sent Events (worker routes only): begin sends the 200 text/event-stream headers; each
 * send queues "data: <payload>\n\n" (never blocks; a client that falls 16 MiB behind counts as
 * gone).  Returns 1 when the client is gone.  The stream ends when the handler returns. */
void g4_http_sse_begin(g4_http_req *r);
int g4_http_sse_send(g4_http_req *r, const char *payload, size_t len);
int g4_http_sse_send_json(g4_http_req *r, const cJSON *j);

#endif
