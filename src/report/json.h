/* json.h: the results file (schema volley.result/1): written once per run, read back later. */
#ifndef VOLLEY_REPORT_JSON_H
#define VOLLEY_REPORT_JSON_H

#include <stddef.h>
#include <jansson.h>

#include "stats/result.h"

#define REPORT_JSON_SCHEMA "volley.result/1"

/*
 * Writes r to dir/<started_at with '-' for ':'>_<name_part>.json, creating dir when missing.
 * An existing name is never replaced: the file gets -2, -3, ... instead. The file appears
 * whole or not at all (temporary file, fsync, no-replace rename). Characters of name_part
 * outside [A-Za-z0-9._-] become '_'. Returns 0 with the final path in path_out, or a
 * negative errno (-ENAMETOOLONG when path_len is too small).
 */
int report_json_write(const stats_result *r, const char *dir, const char *name_part, char *path_out,
                      size_t path_len);

/*
 * Reads a results file into *out, which need not be initialised. On success *out belongs to
 * the caller (stats_result_free); redacted header values stay "[redacted]". On failure
 * returns a negative errno, leaves nothing to free, and puts a one-line reason in err.
 */
/* The results document of r as a jansson object (a new reference), for files that hold several
 * runs (the sweep's steps). NULL when out of memory. */
json_t *report_json_document(const stats_result *r);

/* Writes doc as a results file named after first's start time, as report_json_write does. */
int report_json_write_doc(json_t *doc, const stats_result *first, const char *dir,
                          const char *name_part, char *path_out, size_t path_len);

int report_json_read(const char *path, stats_result *out, char *err, size_t err_len);

#endif
