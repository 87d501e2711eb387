/*
 * identity.c: the key file (see identity.h). Layout:
 *   "HXK1" ‖ 00 ‖ seed[32] ‖ curve_sk[32]                        plain
 *   "HXK1" ‖ 01 ‖ salt[16] ‖ opslimit u64 BE ‖ memlimit u64 BE ‖
 *          nonce[24] ‖ secretbox(seed ‖ curve_sk)[64+16]         protected
 * and reading org.json, which says for which organisation the key signs
 * when it is not the organisation key itself (docs/FORMAT.md §2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <cjson/cJSON.h>
#include "cli/file.h"
#include "cli/identity.h"

#define MAGIC "HXK1"
#define PLAIN_LEN (5 + 64)
#define SEALED_LEN                                                             \
	(5 + crypto_pwhash_SALTBYTES + 16 + crypto_secretbox_NONCEBYTES + 64 + \
	 crypto_secretbox_MACBYTES)

const char *const hx_profile_fields[] = { "name",           "town",  "region", "country",
	                                  "representative", "email", "web",    NULL };

static int derive(uint8_t key[crypto_secretbox_KEYBYTES], const char *pass, const uint8_t *salt,
                  uint64_t ops, uint64_t mem)
{
	/* Limits outside libsodium's range mean a damaged file, not a wrong
	 * passphrase; only a failure within them is a lack of memory. */
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return HX_ECORRUPT;
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, strlen(pass), salt, ops,
	                  (size_t)mem, crypto_pwhash_ALG_ARGON2ID13))
		return HX_ENOMEM;
	return HX_OK;
}

int hx_keyfile_create(const char *path, const uint8_t seed[32], const uint8_t curve_sk[32],
                      const char *passphrase)
{
	uint8_t buf[SEALED_LEN], secret[64], key[crypto_secretbox_KEYBYTES];
	size_t len;
	char tmp[4200];
	int fd, rc = HX_OK;

	if (access(path, F_OK) == 0)
		return HX_EEXIST;
	memcpy(buf, MAGIC, 4);
	memcpy(secret, seed, 32);
	memcpy(secret + 32, curve_sk, 32);
	if (!passphrase) {
		buf[4] = 0;
		memcpy(buf + 5, secret, 64);
		len = PLAIN_LEN;
	} else {
		uint8_t *p = buf + 5;
		uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		uint64_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		buf[4] = 1;
		randombytes_buf(p, crypto_pwhash_SALTBYTES);
		hx_be64_put(p + crypto_pwhash_SALTBYTES, ops);
		hx_be64_put(p + crypto_pwhash_SALTBYTES + 8, mem);
		uint8_t *nonce = p + crypto_pwhash_SALTBYTES + 16;
		randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
		if ((rc = derive(key, passphrase, p, ops, mem)))
			goto out;
		crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, secret, 64, nonce, key);
		len = SEALED_LEN;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		rc = HX_EIO;
		goto out;
	}
	int bad = write(fd, buf, len) != (ssize_t)len || fsync(fd);
	if (close(fd) || bad || rename(tmp, path)) { /* close on every path */
		unlink(tmp);
		rc = HX_EIO;
	} else if (hx_fsync_parent(path)) {
		rc = HX_EIO; /* the key is there, but the rename may not be durable */
	}
out:
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(key, sizeof key);
	return rc;
}

int hx_keyfile_load(const char *path, const char *passphrase, uint8_t seed[32],
                    uint8_t curve_sk[32], int *needs_pass)
{
	uint8_t buf[SEALED_LEN + 1], secret[64], key[crypto_secretbox_KEYBYTES];
	struct stat st;
	int fd, rc = HX_OK;
	ssize_t n;

	*needs_pass = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? HX_ENOTFOUND : HX_EIO;
	if (fstat(fd, &st) || (st.st_mode & 077)) {
		close(fd);
		return HX_EPERM;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 5 || memcmp(buf, MAGIC, 4)) {
		rc = HX_ECORRUPT;
	} else if (buf[4] == 0 && n == PLAIN_LEN) {
		memcpy(seed, buf + 5, 32);
		memcpy(curve_sk, buf + 37, 32);
	} else if (buf[4] == 1 && n == (ssize_t)SEALED_LEN) {
		const uint8_t *p = buf + 5;
		const uint8_t *nonce = p + crypto_pwhash_SALTBYTES + 16;
		if (!passphrase) {
			*needs_pass = 1;
			rc = HX_ECRYPTO;
		} else if (!(rc = derive(key, passphrase, p,
		                         hx_be64_get(p + crypto_pwhash_SALTBYTES),
		                         hx_be64_get(p + crypto_pwhash_SALTBYTES + 8)))) {
			if (crypto_secretbox_open_easy(secret, nonce + crypto_secretbox_NONCEBYTES,
			                               64 + crypto_secretbox_MACBYTES, nonce,
			                               key)) {
				rc = HX_ECRYPTO;
			} else {
				memcpy(seed, secret, 32);
				memcpy(curve_sk, secret + 32, 32);
			}
		}
	} else {
		rc = HX_ECORRUPT;
	}
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(key, sizeof key);
	return rc;
}

int hx_org_file_load(const char *home, uint8_t org[HX_KEY_LEN], int *device)
{
	char path[4200], *buf;
	const char *why;
	size_t n;
	int rc = -1;

	snprintf(path, sizeof path, "%s/%s", home, HX_ORGFILE);
	if (hx_file_read(path, 4096, &buf, &n, &why))
		return -1;
	cJSON *j = cJSON_ParseWithLength(buf, n);
	free(buf);
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "org");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "device");
	if (cJSON_IsString(k) && !hx_unhex(org, HX_KEY_LEN, k->valuestring) && cJSON_IsBool(d)) {
		*device = cJSON_IsTrue(d);
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}
