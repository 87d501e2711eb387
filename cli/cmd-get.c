/*
 * cmd-get.c: `hansa get PATH NAME [-o FILE]`: writes one attached file of
 * a document out, every chunk checked against the entry's blob hash.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "store/blob.h"

static int exec(struct hx_ctx *ctx, const struct hx_args *a)
{
	const char *authorarg = hx_arg_value(a, "author"), *out = hx_arg_value(a, "output");
	const char *name = a->argv[1];
	uint8_t author[HX_KEY_LEN];
	int rc = HX_EXIT_FAIL, state;
	hx_entry e;

	if (authorarg && hx_parse_key(authorarg, author))
		return HX_EXIT_FAIL;
	if (hx_resolve_doc(ctx, a->argv[0], authorarg ? author : NULL, &e))
		return HX_EXIT_FAIL;
	const hx_attach *at = hx_entry_attach(&e, name);
	hx_store *s = hx_ctx_store(ctx, 0);
	if (!at) {
		hx_fail("%s has no attached file '%s' (hansa show %s lists them)", e.path, name,
		        e.path);
		goto done;
	}
	if (!s || hx_blob_state(s, at->hash, &state, NULL, NULL))
		goto done;
	if (state != HX_BLOB_WHOLE) {
		hx_fail("%s: the file '%s' is not on this node%s; fetch it with 'hansa fetch %s'",
		        e.path, name, state == HX_BLOB_PARTIAL ? " yet (partly received)" : "",
		        e.path);
		goto done;
	}
	if (!out)
		out = at->name; /* a plain file name (FORMAT.md §1.7), in this folder */
	int err;
	if (!strcmp(out, "-")) {
		fflush(stdout);
		err = hx_blob_write_fd(s, at->hash, STDOUT_FILENO);
	} else {
		err = hx_blob_copy_out(s, at->hash, out);
	}
	if (err == HX_ECORRUPT)
		hx_fail("%s: the stored file '%s' is damaged (does not match its hash); run "
		        "'hansa fsck'",
		        e.path, name);
	else if (err)
		hx_fail("cannot write %s: %s", out, hx_strerror(err));
	else
		rc = HX_EXIT_OK;
done:
	hx_entry_clear(&e);
	return rc;
}

static const struct hx_opt opts[] = {
	{ "output", 'o', "FILE", "write to FILE (- for standard output); default: NAME here", 0 },
	{ "author", 0, "KEY",
	  "the document of this partner (64 hex digits), when several have one at PATH", 0 },
	{ 0 }
};

const struct hx_cmd hx_cmd_get = {
	.name = "get",
	.summary = "write out a file attached to a document",
	.args = "PATH NAME",
	.args_min = 2,
	.args_max = 2,
	.args_error = "give the document's PATH and the file's NAME",
	.opts = opts,
	.text = "Writes the attached file NAME of the current version of the document at\n"
	        "PATH to FILE (default: NAME in the current folder), checking every chunk\n"
	        "against the hash the signed entry names. A file not yet on this node is an\n"
	        "error that says to fetch it (hansa fetch PATH).\n",
	.exec = exec,
};
