/* event.c - see event.h. */
#include "event.h"

#include <stdlib.h>
#include <string.h>

bool rg_event_skip(const char *line)
{
    const char *s = line;
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s == '\0' || *line == '#';
}

int rg_event_parse(const char *line, size_t len, rg_event *ev, rg_err *err)
{
    int rc = 0;
    memset(ev, 0, sizeof *ev);
    if (len > RG_ENGINE_EVENT_LINE_MAX)
        return rg_err_set(err, RG_ETOOBIG, "event longer than %d bytes",
                          RG_ENGINE_EVENT_LINE_MAX);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += line[i] == '\t';
    if (n > RG_ENGINE_EVENT_FIELDS_MAX)
        return rg_err_set(err, RG_ETOOBIG, "event has more than %d fields",
                          RG_ENGINE_EVENT_FIELDS_MAX);
    ev->buf = malloc(len + 1);
    /* Exactly n pointers: no slack for a read past the end to land in. */
    ev->fields = malloc(n * sizeof *ev->fields);
    if (!ev->buf || (n > 0 && !ev->fields)) {
        rc = rg_err_set(err, RG_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(ev->buf, line, len);
    ev->buf[len] = '\0';
    ev->type = ev->buf;
    char *p = ev->buf, *end = ev->buf + len;
    for (size_t i = 0; i < n; i++) {
        p = memchr(p, '\t', (size_t)(end - p)); /* one of the n tabs */
        *p++ = '\0';
        ev->fields[i] = p;
    }
    ev->nfields = n;
    if (*ev->type == '\0')
        rc = rg_err_set(err, RG_EINVAL, "event has no template type");
cleanup:
    if (rc != 0)
        rg_event_release(ev);
    return rc;
}

void rg_event_release(rg_event *ev)
{
    free(ev->buf);
    free(ev->fields);
    memset(ev, 0, sizeof *ev);
}

int rg_event_read_line(FILE *in, rg_buf *line, rg_err *err)
{
    int c;
    bool any = false;
    rg_buf_reset(line);
    while ((c = getc(in)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (c == '\0')
            return rg_err_set(err, RG_EINVAL, "NUL byte in event");
        char ch = (char)c;
        int rc = rg_buf_add(line, &ch, 1);
        if (rc == RG_ETOOBIG)
            return rg_err_set(err, rc, "event longer than %zu bytes",
                              line->max);
        if (rc != 0)
            return rg_err_set(err, rc, "out of memory");
    }
    if (ferror(in))
        return rg_err_set(err, RG_EIO, "cannot read events");
    if (!any)
        return 0;
    if (line->len > 0 && line->data[line->len - 1] == '\r')
        line->data[--line->len] = '\0';
    if (!line->data && rg_buf_add(line, "", 0) != 0)
        return rg_err_set(err, RG_ENOMEM, "out of memory");
    return 1;
}
