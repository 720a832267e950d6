/* timage.h: the rehearsal server's image bodies: PNGs of an exact size, base64 and zip. */
#ifndef VOLLEY_TIMAGE_H
#define VOLLEY_TIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The smallest PNG timage_png can build to an exact size. */
#define TIMAGE_MIN_PNG_BYTES 512

/* Builds a valid RGB PNG of exactly png_bytes bytes (at least TIMAGE_MIN_PNG_BYTES) whose noise
 * pixels come from seed. Returns a malloc'd buffer the caller frees, or NULL when out of
 * memory. */
uint8_t *timage_png(uint64_t seed, size_t png_bytes);

/* The raw size whose base64 text is b64_bytes long (rounded down to a multiple of 4). */
size_t timage_raw_bytes_for_b64(size_t b64_bytes);

/* Writes the base64 text of src into dst, which holds at least timage_b64_len(n) + 1 bytes;
 * NUL-terminates it and returns its length. */
size_t timage_b64_encode(char *dst, const uint8_t *src, size_t n);

/* The length of the base64 text of n bytes. */
size_t timage_b64_len(size_t n);

/* One file of a zip archive. */
typedef struct {
    const char *name;
    const uint8_t *data;
    size_t len;
} timage_zip_entry;

/* Builds a zip archive (stored, not compressed) of n entries. Returns a malloc'd buffer and
 * its length in *out_len, or NULL when out of memory. */
uint8_t *timage_zip(const timage_zip_entry *entries, int n, size_t *out_len);

#endif
