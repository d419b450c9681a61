/* chat.h -- the Gemma 4 chat format: a conversation model, its prompt text, and the
 * parser for what the model writes back.
 *
 * Three parts:
 *  1. g4_chat: a conversation (messages, tool declarations, add_generation_prompt,
 *     enable_thinking), parsed from an OpenAI-style request body or built from C.
 *  2. g4_chat_render: the prompt TEXT, byte-identical to the reference chat template
 *     google-gemma-4-31B-it.jinja as transformers renders it (the tokenizer turns the
 *     text into ids later).  The template's quirks are reproduced on purpose: keys are
 *     dict-sorted case-insensitively, numbers print as Python prints json.loads' value
 *     (1, 1.0, 1e+20), null prints "None", a parameter named like a schema keyword is
 *     skipped, tool results go inline in the model turn, and so on.  See chat_render.c.
 *  3. g4_chat_parse_output / g4_chat_stream: split model text into the thought channel,
 *     the answer, tool calls (<|tool_call>call:NAME{...}<tool_call|>) and tool results.
 *
 * Deliberate differences from transformers:
 *  - content parts of type image_url/input_image, input_audio/audio_url, video_url are
 *    taken as image/audio/video (the template would silently drop them);
 *  - a role:tool message whose content is a JSON object renders as a mapping result
 *    (transformers raises on it);
 *  - refused here although the template would render something: unknown roles, unknown
 *    part types, non-text parts in tool results, non-string text/names/ids, invalid
 *    UTF-8, \u0000 in strings;
 *  - dictsort's str.lower() is Python's except for the final-sigma rule (keys that
 *    differ only in a word-final capital sigma may sort differently).
 *  Everything transformers cannot render (it raises) is an error here too.
 *
 * JSON values are cJSON trees.  Trees made by g4_chat_json_parse (and every tree in a
 * g4_chat) keep each number's source literal in the number node's valuestring, so that
 * 1.0 prints "1.0" and 12345678901234567890 prints exactly, as Python would.  A number
 * node without a literal (cJSON_CreateNumber) prints as an int when it is integral and
 * below 2^63 in magnitude, else as a Python float.  If you change a parsed number with
 * cJSON_SetNumberValue, also free and clear its valuestring.
 */
#ifndef G4_CHAT_H
#define G4_CHAT_H

#include <cjson/cJSON.h>

#include "../core/common.h"

typedef enum {
    G4_CHAT_SYSTEM,
    G4_CHAT_DEVELOPER,
    G4_CHAT_USER,
    G4_CHAT_ASSISTANT, /* written as "model"; the next assistant/model message continues its turn */
    G4_CHAT_MODEL,     /* role "model" given as such: written as "model", starts a new turn */
    G4_CHAT_TOOL,      /* a tool result; rendered inside the preceding assistant turn */
} g4_chat_role;

typedef enum {
    G4_CHAT_PART_TEXT,
    G4_CHAT_PART_IMAGE, /* <|image|> */
    G4_CHAT_PART_AUDIO, /* <|audio|> */
    G4_CHAT_PART_VIDEO, /* <|video|> */
} g4_chat_part_type;

typedef struct {
    g4_chat_part_type type;
    char *text;  /* TEXT parts: the text; NULL for media */
    cJSON *json; /* the part object as given (media: url, path, data ... for the caller) */
} g4_chat_part;

typedef enum {
    G4_CHAT_CONTENT_NONE,  /* no "content" key */
    G4_CHAT_CONTENT_NULL,  /* "content": null */
    G4_CHAT_CONTENT_TEXT,  /* a string: text */
    G4_CHAT_CONTENT_PARTS, /* a list: parts */
    G4_CHAT_CONTENT_VALUE, /* role tool only: a number, boolean or object result: value */
} g4_chat_content_kind;

typedef struct {
    char *id;         /* NULL = none */
    char *name;
    cJSON *arguments; /* an object (dict-sorted k:v), a string (written verbatim), or NULL */
} g4_chat_tool_call;

typedef struct {
    char *name;      /* NULL = "unknown" */
    cJSON *response; /* any JSON value: a string -> {value:<|"|>..<|"|>}, an object -> {k:v,..} */
} g4_chat_tool_response;

typedef struct {
    g4_chat_role role;
    g4_chat_content_kind content_kind;
    char *text;          /* CONTENT_TEXT */
    g4_chat_part *parts; /* CONTENT_PARTS */
    int n_parts;
    cJSON *value;        /* CONTENT_VALUE */
    char *reasoning;     /* reasoning / reasoning_content / thinking; NULL = none */
    g4_chat_tool_call *tool_calls;
    int n_tool_calls;
    g4_chat_tool_response *tool_responses; /* Gemma-native results on an assistant message */
    int n_tool_responses;
    char *name;          /* role tool: the function name (NULL = none) */
    char *tool_call_id;  /* role tool: the id of the call it answers (NULL = none) */
} g4_chat_msg;

typedef struct {
    g4_chat_msg *msgs;
    int n_msgs, cap_msgs;
    cJSON *tools;              /* array of {"type":"function","function":{name,description,parameters}} */
    int add_generation_prompt; /* 0/1 */
    int enable_thinking;       /* 0/1 */
} g4_chat;

/* ---- the conversation ---- */

g4_status g4_chat_new(g4_chat **out, char *err);
void g4_chat_free(g4_chat *c);

/* An OpenAI-style request body: {"messages":[...], "tools":[...], "add_generation_prompt":
 * bool (default true), "enable_thinking": bool or "chat_template_kwargs":{"enable_thinking":
 * bool} (default false)}.  Other keys are ignored.  Errors name the offending field, e.g.
 * "messages[2].role: unknown role 'bot' (want system, developer, user, assistant, model or tool)". */
g4_status g4_chat_from_json(g4_chat **out, const char *json, size_t len, char *err);
/* The same from a tree (copied; keep number literals by using g4_chat_json_parse). */
g4_status g4_chat_from_cjson(g4_chat **out, const cJSON *req, char *err);

/* OpenAI clients send tool-call arguments as a JSON string; the template writes a string
 * verbatim (call:f{{"a": 1}}).  This replaces every string argument that is a JSON object
 * by that object, as vLLM does before templating; other strings stay as they are.
 * Not done by g4_chat_from_json (transformers does not). */
g4_status g4_chat_decode_json_arguments(g4_chat *c, char *err);

/* Builders: each appends to c and copies what it is given. */
g4_status g4_chat_add(g4_chat *c, g4_chat_role role, const char *text, char *err); /* text NULL = no content */
/* Append a part to the last message (its string content, if any, becomes a text part). */
g4_status g4_chat_add_part(g4_chat *c, g4_chat_part_type type, const char *text, char *err);
g4_status g4_chat_set_reasoning(g4_chat *c, const char *reasoning, char *err); /* on the last message */
/* A call on the last message; arguments: an object, a string, or NULL. */
g4_status g4_chat_add_tool_call(g4_chat *c, const char *id, const char *name, const cJSON *arguments,
                                char *err);
/* A role:tool message; result: any JSON value (a string is the usual OpenAI form). */
g4_status g4_chat_add_tool_result(g4_chat *c, const char *name, const char *tool_call_id,
                                  const cJSON *result, char *err);
/* A Gemma-native result inside the last (assistant) message. */
g4_status g4_chat_add_tool_response(g4_chat *c, const char *name, const cJSON *response, char *err);
/* A tool declaration {"type":"function","function":{...}}; checked for "function"."name". */
g4_status g4_chat_add_tool(g4_chat *c, const cJSON *tool, char *err);

/* Parse JSON text into a cJSON tree the way Python's json.loads reads it: strict JSON,
 * valid UTF-8, no trailing data, a duplicate key keeps its first position and last value,
 * numbers keep their literal (see above).  what names the text in errors. */
g4_status g4_chat_json_parse(cJSON **out, const char *json, size_t len, const char *what, char *err);

/* Compact JSON text of v (g4_free it), as Python's json.dumps(v, ensure_ascii=False,
 * separators=(",", ":")) prints json.loads' value: numbers keep their kind (1.0 stays
 * 1.0), which cJSON_Print would lose.  For tool-call arguments in an API response. */
g4_status g4_chat_json_print(const cJSON *v, char **out, char *err);

/* ---- the prompt ---- */

/* The prompt text (NUL-terminated, g4_free it).  len may be NULL. */
g4_status g4_chat_render(const g4_chat *c, char **out, size_t *len, char *err);

/* ---- the model's reply ---- */

typedef enum {
    G4_CHAT_STOP_NONE,          /* the text just ended */
    G4_CHAT_STOP_TURN,          /* <turn|> */
    G4_CHAT_STOP_TOOL_RESPONSE, /* <|tool_response> with no result after it: run the tools */
    G4_CHAT_STOP_EOS,           /* <eos> */
} g4_chat_stop;

typedef struct {
    char *name;
    cJSON *arguments; /* always an object */
    char *text;       /* the arguments as written, between the outer braces */
} g4_chat_out_call;

typedef struct {
    char *thought;      /* the thought channel text (without "thought\n"), trimmed; NULL = none */
    int thought_open;   /* the text ended inside the thought channel */
    char *content;      /* the answer: the text outside channels, calls and results, trimmed */
    g4_chat_out_call *calls;
    int n_calls;
    g4_chat_tool_response *responses; /* <|tool_response>response:NAME{...}<tool_response|>,
                                         response = the object in the braces */
    int n_responses;
    g4_chat_stop stop;
    size_t consumed;    /* bytes of the input up to and including the stop marker */
} g4_chat_output;

/* Parse what the model generated after the prompt (a leading "<|turn>model\n" is
 * skipped).  Tool-call arguments use the template's syntax: bare or <|"|>-quoted keys,
 * <|"|>strings<|"|> (also JSON "strings"), numbers, true/false, null/None, {} and [].
 * Malformed calls or results -> G4_EFORMAT naming the call and the byte offset. */
g4_status g4_chat_parse_output(const char *text, size_t len, g4_chat_output *out, char *err);
void g4_chat_output_free(g4_chat_output *o);

/* Streaming: feed chunks as they are generated, get events.  Text that might be the
 * start of a marker is held back until it is decided. */
typedef enum {
    G4_CHAT_EV_CONTENT,       /* text: a piece of the answer */
    G4_CHAT_EV_THOUGHT,       /* text: a piece of the thought channel ("thought\n" removed) */
    G4_CHAT_EV_TOOL_CALL,     /* call: a complete, parsed call */
    G4_CHAT_EV_TOOL_RESPONSE, /* response: a complete result block */
    G4_CHAT_EV_STOP,          /* stop: a stop marker; nothing is reported after it */
} g4_chat_event_type;

typedef struct {
    g4_chat_event_type type;
    const char *text; /* CONTENT/THOUGHT: not NUL-terminated, len bytes, valid during the callback */
    size_t len;
    const g4_chat_out_call *call;          /* TOOL_CALL: valid during the callback */
    const g4_chat_tool_response *response; /* TOOL_RESPONSE: valid during the callback */
    g4_chat_stop stop;                     /* STOP */
} g4_chat_event;

typedef void (*g4_chat_event_fn)(void *user, const g4_chat_event *ev);
typedef struct g4_chat_stream g4_chat_stream;

g4_status g4_chat_stream_new(g4_chat_stream **out, g4_chat_event_fn fn, void *user, char *err);
/* Feed a chunk; events for everything decided so far are delivered before it returns. */
g4_status g4_chat_stream_feed(g4_chat_stream *s, const char *text, size_t len, char *err);
/* End of generation: flush held-back text; an unfinished call is G4_EFORMAT. */
g4_status g4_chat_stream_finish(g4_chat_stream *s, char *err);
void g4_chat_stream_free(g4_chat_stream *s);

#endif
