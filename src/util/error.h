/* error.h — how every pasalista function reports failure.
 *
 * The library never prints and never exits. A function that can fail takes
 * a pl_error * (may be NULL) and returns a status; on failure it fills the
 * error with a code and a one-line message that names the file (or object)
 * and says what is wrong, e.g.
 *     "models/pnet.tflite: truncated: buffer 3 ends at byte 40120 of 32352"
 * The CLI decides what to print and which exit code to use.
 */
#ifndef PL_ERROR_H
#define PL_ERROR_H

#include <stdarg.h>

#include "pasalista.h" /* pl_status, pl_error */

/* Fill *err (if not NULL) and return code, so callers can write
 *     return pl_fail(err, PL_ERR_FORMAT, "%s: bad magic", path);        */
pl_status pl_fail(pl_error *err, pl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with context: "loading model x: " + old msg. */
pl_status pl_error_prefix(pl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void pl_error_clear(pl_error *err);


#endif
