/*
 * profile.h: the partner profile kept in HOME/profile.json (name, town,
 * region, country, representative, email, web) next to the public keys,
 * so that `hansa id` works without unlocking the secret key.
 */
#ifndef HX_PROFILE_H
#define HX_PROFILE_H

struct cJSON;

/* Reads HOME/profile.json; NULL (after printing the error) on failure.
 * Caller owns the result. */
struct cJSON *hx_profile_load(const char *home);
/* Writes it atomically (temp file + rename). 0 or prints and returns 1. */
int hx_profile_save(const char *home, const struct cJSON *profile);

#endif
