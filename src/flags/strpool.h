/*
 * strpool.h - one copy of each distinct string of a flag set (internal to
 * src/flags). Constraints' context names and values repeat across flags
 * ("os", "linux"): pooled, an evaluation reads the few copies every flag
 * shares, which stay in cache, instead of one copy per constraint.
 */
#ifndef RG_FLAGS_STRPOOL_H
#define RG_FLAGS_STRPOOL_H

typedef struct rg_flag_strpool rg_flag_strpool;

/* Returns a new empty pool (the caller frees it with rg_flag_strpool_free),
 * or NULL when out of memory. */
rg_flag_strpool *rg_flag_strpool_new(void);

/* Returns the pool's copy of s, made at its first request: owned by the
 * pool, valid until it is freed. NULL when out of memory. Not
 * thread-safe (the parser's). */
char *rg_flag_strpool_intern(rg_flag_strpool *p, const char *s);

/* Frees p and every copy. NULL is a no-op. */
void rg_flag_strpool_free(rg_flag_strpool *p);

#endif
