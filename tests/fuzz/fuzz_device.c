/*
 * fuzz_device.c: libFuzzer target for what proto/device.c parses from
 * outside: the printable codes (recovery and device codes pasted by a
 * person) and the device and rotation records inside entries from other
 * partners. The first input byte chooses. A code that decodes must encode
 * back to a code that decodes to the same payload; a record either parses
 * with its fields in their rules or is refused with a reason.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "proto/device.h"

static void code(const uint8_t *data, size_t size)
{
	static uint8_t payload[HX_CODE_PAYLOAD_MAX], back[HX_CODE_PAYLOAD_MAX];
	char *text = malloc(size + 1), *again;
	size_t n, m, bad;
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = 0;
	int rc = hx_code_decode("hxorg1-", text, payload, sizeof payload, &n, &bad);
	if (rc != HX_OK && rc != HX_EINVAL && rc != HX_ECRYPTO && rc != HX_ELIMIT)
		abort();
	if (rc == HX_EINVAL && bad > strlen(text))
		abort();
	if (rc == HX_OK) {
		if (n > sizeof payload || hx_code_encode("hxorg1-", payload, n, &again))
			abort();
		if (hx_code_decode("hxorg1-", again, back, sizeof back, &m, &bad) || m != n ||
		    memcmp(back, payload, n))
			abort();
		free(again);
	}
	free(text);
}

static void record(const uint8_t *data, size_t size)
{
	hx_entry e;
	hx_device_rec d;
	uint8_t next[HX_KEY_LEN];
	const char *why = NULL;
	if (hx_entry_decode(&e, data, size))
		return;
	int t = hx_org_record_type(&e);
	int rc = hx_device_rec_parse(&e, &d, &why);
	if (rc == HX_OK && (t != 1 || !d.name || !*d.name || strlen(d.name) > HX_DEVICE_NAME_MAX ||
	                    !memcmp(d.device, e.author, HX_KEY_LEN)))
		abort();
	if (rc != HX_OK && (rc != HX_ERECORD || !why))
		abort();
	why = NULL;
	rc = hx_rotate_rec_parse(&e, next, &why);
	if (rc == HX_OK && (t != 2 || !memcmp(next, e.author, HX_KEY_LEN)))
		abort();
	if (rc != HX_OK && (rc != HX_ERECORD || !why))
		abort();
	hx_entry_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	if (!size)
		return 0;
	if (data[0] & 1)
		code(data + 1, size - 1);
	else
		record(data + 1, size - 1);
	return 0;
}
