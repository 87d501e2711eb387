/*
 * hx.c: the text of each error code (see hx.h).
 */
#include "proto/hx.h"

const char *hx_strerror(int err)
{
	switch (err) {
	case HX_OK: return "success";
	case HX_ENOMEM: return "out of memory";
	case HX_EINVAL: return "invalid argument";
	case HX_EPROTO: return "malformed or non-canonical encoding";
	case HX_ELIMIT: return "over a size limit";
	case HX_EFORGED: return "signature does not verify";
	case HX_ENOTFOUND: return "not found";
	case HX_ECORRUPT: return "store is corrupt";
	case HX_EIO: return "I/O error";
	case HX_EVERSION: return "unsupported format or schema version";
	case HX_EEXIST: return "already exists";
	case HX_EPERM: return "not permitted";
	case HX_EFUTURE: return "timestamp too far in the future";
	case HX_EFULL: return "store map is full";
	case HX_EBUSY: return "busy";
	case HX_ECRYPTO: return "cryptographic check failed";
	case HX_ETIMEOUT: return "timed out";
	}
	return "unknown error";
}
