#include "util/csv.h"

#include <string.h>

void pl_csv_field(FILE *f, const char *s)
{
    s = s ? s : "";
    int formula = s[0] && strchr("=+-@", s[0]) != NULL;
    if (!formula && !strpbrk(s, ",;\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula) fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
