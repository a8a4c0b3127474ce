#include "util/error.h"

#include <stdio.h>
#include <string.h>

pl_status pl_fail(pl_error *err, pl_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

pl_status pl_error_prefix(pl_error *err, const char *fmt, ...)
{
    if (!err) return PL_ERR_INTERNAL;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%.500s%.520s", prefix, old);
    return err->code;
}

void pl_error_clear(pl_error *err)
{
    if (err) {
        err->code = PL_OK;
        err->msg[0] = '\0';
    }
}

const char *pl_status_name(pl_status code)
{
    switch (code) {
    case PL_OK: return "ok";
    case PL_ERR_IO: return "i/o error";
    case PL_ERR_FORMAT: return "bad format";
    case PL_ERR_UNSUPPORTED: return "unsupported";
    case PL_ERR_ARG: return "invalid argument";
    case PL_ERR_NOMEM: return "out of memory";
    case PL_ERR_NOTFOUND: return "not found";
    case PL_ERR_DB: return "database error";
    case PL_ERR_NET: return "network error";
    case PL_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
