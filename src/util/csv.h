/* csv.h — writing CSV fields (RFC 4180) that spreadsheets read back safely.
 *
 * Every CSV pasalista writes (attendance.csv, reports, import-report.csv)
 * goes through one field writer, so quoting is the same everywhere: a field
 * with , ; " CR or LF is quoted with "" doubled, and a field starting with
 * = + - or @ is quoted and prefixed with ' so Excel shows it as text
 * instead of running it as a formula (names come from untrusted sheets). */
#ifndef PL_CSV_H
#define PL_CSV_H

#include <stdio.h>

/* Write one field (s may be NULL: empty); no separator. */
void pl_csv_field(FILE *f, const char *s);

#endif
