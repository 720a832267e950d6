/* troutes.h: the rehearsal server's route table, authentication and JSON answers. */
#ifndef VOLLEY_TROUTES_H
#define VOLLEY_TROUTES_H

#include <jansson.h>

#include "target/tmodel.h"
#include "target/tsrv.h"
#include "target/tstore.h"

#define TROUTES_MAX_PARAMS 4
#define TROUTES_PARAM_BYTES 64

/* What matching a route found: its path parameters and, for protected routes, the user. */
typedef struct {
    char param[TROUTES_MAX_PARAMS][TROUTES_PARAM_BYTES];
    int nparams;
    tstore_user user;
} troutes_match;

/* Keeps the model the handlers follow (it must outlive the server). */
void troutes_init(const tmodel_config *model);

/* The model given to troutes_init. */
const tmodel_config *troutes_model(void);

/* tsrv_config.dispatch: routes one request, applies the hosting layer's 429 and 502 and the
 * authentication, and calls its handler. */
void troutes_dispatch(tsrv_req *req);

/* Answers with a JSON value (consumed) and optional extra header lines. */
void troutes_reply_json(tsrv_req *req, int status, json_t *body, const char *extra_headers);

/* Answers {"<key>": text}. */
void troutes_reply_text(tsrv_req *req, int status, const char *key, const char *text);

/* Parses a path parameter as a non-negative integer; -1 when it is not one. */
int troutes_param_int(const troutes_match *m, int i);

/* The request body as a JSON object (new reference), or NULL when it is not one. */
json_t *troutes_body_json(const tsrv_req *req);

/* The user as the API shows it (id, email, names, tier, pages...). */
json_t *troutes_user_json(const tstore_user *u);

#endif
