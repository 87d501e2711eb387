/*
 * args.c: the one parser of every command line (see cli.h: struct hx_opt,
 * hx_args_parse), and what is made from the same tables: `hansa CMD
 * --help` and the man pages hansa(1) and hansa-CMD(1). A command declares
 * its options and arguments once, in its struct hx_cmd; parsing, errors,
 * help and manual follow from that declaration.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

#define WIDTH 79   /* --help text is wrapped to this many columns */
#define OPT_COL 24 /* option help starts here, or on the next line */

static const struct hx_opt help_opt = { "help", 'h', NULL, "show this help and exit", 0 };

/* ---- parsing ------------------------------------------------------------ */

int hx_usage_error(const struct hx_cmd *cmd, const char *fmt, ...)
{
	const char *sp = cmd->name ? " " : "", *name = cmd->name ? cmd->name : "";
	va_list ap;
	fprintf(stderr, "hansa%s%s: ", sp, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'hansa%s%s --help')\n", sp, name);
	return HX_EXIT_USAGE;
}

static const struct hx_opt *find_long(const struct hx_cmd *c, const char *name, size_t n)
{
	for (const struct hx_opt *o = c->opts; o && o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			return o;
	return n == 4 && !strncmp(name, "help", 4) ? &help_opt : NULL;
}

static const struct hx_opt *find_short(const struct hx_cmd *c, char letter)
{
	for (const struct hx_opt *o = c->opts; o && o->name; o++)
		if (o->letter && o->letter == letter)
			return o;
	return letter == 'h' ? &help_opt : NULL;
}

static int is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static const struct hx_cmd *find_sub(const struct hx_cmd *c, const char *name)
{
	for (const struct hx_cmd *s = c->subs; s->name; s++)
		if (!strcmp(s->name, name) || (s->alias && !strcmp(s->alias, name)))
			return s;
	return NULL;
}

/* The parser's state while it walks argv. */
struct parse {
	struct hx_args *a;
	int help;
	char err[512]; /* the first error, said unless help was asked for */
};

static void perr(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	if (p->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
}

static void set(struct parse *p, const struct hx_opt *o, const char *value)
{
	if (o == &help_opt) {
		p->help = 1;
		return;
	}
	p->a->set[p->a->nset++] = (struct hx_arg_set){ o, value };
}

/* One "--name", "--name=value" or "--name value" at argv[*i]. */
static void parse_long(struct parse *p, int argc, char **argv, int *i)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const struct hx_opt *o = find_long(p->a->cmd, name, n);

	if (!o)
		return perr(p, "unknown option '--%.*s'", (int)n, name);
	if (!o->value) {
		if (eq)
			return perr(p, "option '--%s' takes no value", o->name);
		return set(p, o, NULL);
	}
	if (eq)
		return set(p, o, eq + 1);
	if (*i + 1 >= argc)
		return perr(p, "missing value for option '--%s %s'", o->name, o->value);
	set(p, o, argv[++*i]);
}

/* One "-x", "-xVALUE", "-x VALUE" or bundled flags "-nv" at argv[*i]. */
static void parse_short(struct parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	for (int j = 1; arg[j]; j++) {
		const struct hx_opt *o = find_short(p->a->cmd, arg[j]);
		if (!o)
			return perr(p, "unknown option '-%c'", arg[j]);
		if (!o->value) {
			set(p, o, NULL);
			continue;
		}
		if (arg[j + 1])
			return set(p, o, arg + j + 1);
		if (*i + 1 >= argc)
			return perr(p, "missing value for option '-%c %s'", o->letter, o->value);
		return set(p, o, argv[++*i]);
	}
}

/* Checks the required options and the number of positional arguments
 * against the declaration. */
static void check_count(struct parse *p)
{
	for (const struct hx_opt *o = p->a->cmd->opts; o && o->name; o++) {
		size_t i;
		for (i = 0; i < p->a->nset && p->a->set[i].opt != o; i++)
			;
		if ((o->flags & HX_OPT_REQUIRED) && i == p->a->nset)
			return perr(p, "give --%s%s%s", o->name, o->value ? " " : "",
			            o->value ? o->value : "");
	}
	const struct hx_cmd *c = p->a->cmd;
	int n = p->a->argc, max = c->args_max;

	if (n >= c->args_min && (max < 0 || n <= max))
		return;
	if (c->args_error)
		perr(p, "%s", c->args_error);
	else if (max == 0)
		perr(p, "unexpected argument '%s': it takes no arguments", p->a->argv[0]);
	else if (c->args_min == 1 && max == 1)
		perr(p, "give one %s", c->args);
	else if (n > max)
		perr(p, "unexpected argument '%s'", p->a->argv[max]);
	else
		perr(p, "give %s", c->args);
}

int hx_args_parse(const struct hx_cmd *cmd, int argc, char **argv, struct hx_args *a)
{
	struct parse p = { .a = a };
	int only_args = 0, stop = cmd->flags & HX_CMD_STOP_AT_ARG;

	memset(a, 0, sizeof *a);
	a->top = a->cmd = cmd;
	if (cmd->subs) {
		if (argc >= 2 && is_help(argv[1])) {
			hx_cmd_help(cmd, stdout);
			return 1;
		}
		if (argc < 2 || !(a->cmd = find_sub(cmd, argv[1]))) {
			char names[256] = "";
			for (const struct hx_cmd *s = cmd->subs; s->name; s++) {
				size_t l = strlen(names);
				snprintf(names + l, sizeof names - l, "%s%s",
				         l ? (s[1].name ? ", " : " or ") : "", s->name);
			}
			if (argc < 2)
				return hx_usage_error(cmd, "give %s", names);
			return hx_usage_error(cmd, "unknown subcommand '%s' (%s)", argv[1], names);
		}
		argc--;
		argv++;
	}
	a->argv = malloc((size_t)argc * sizeof *a->argv);
	a->set = malloc((size_t)argc * sizeof *a->set);
	if (!a->argv || !a->set) {
		hx_args_free(a);
		return hx_fail("out of memory");
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (p.err[0]) {
			/* after an error only a request for help still counts */
			if (!strcmp(arg, "--"))
				break;
			p.help |= !stop && is_help(arg);
			continue;
		}
		if (only_args) {
			a->argv[a->argc++] = argv[i];
		} else if (!strcmp(arg, "--")) {
			only_args = 1;
		} else if (arg[0] == '-' && arg[1] == '-') {
			parse_long(&p, argc, argv, &i);
		} else if (arg[0] == '-' && arg[1] &&
		           !((cmd->flags & HX_CMD_DASH_ARGS) &&
		             (arg[2] || !find_short(a->cmd, arg[1])))) {
			parse_short(&p, argc, argv, &i);
		} else {
			a->argv[a->argc++] = argv[i];
			only_args = stop;
		}
	}
	if (p.help) {
		hx_args_free(a);
		hx_cmd_help(cmd, stdout);
		return 1;
	}
	if (!p.err[0])
		check_count(&p);
	if (p.err[0]) {
		hx_args_free(a);
		return hx_usage_error(cmd, "%s", p.err);
	}
	return 0;
}

void hx_args_free(struct hx_args *a)
{
	free(a->argv);
	free(a->set);
	a->argv = NULL;
	a->set = NULL;
	a->argc = 0;
	a->nset = 0;
}

/* The declared option of that name; asking for an undeclared one is a
 * bug in the command, found by its first test. */
static const struct hx_opt *declared(const struct hx_args *a, const char *name)
{
	const struct hx_opt *o = find_long(a->cmd, name, strlen(name));
	if (!o || o == &help_opt) {
		fprintf(stderr,
		        "hansa: bug: '%s' asks for option --%s, which it does not declare\n",
		        a->cmd->name, name);
		abort();
	}
	return o;
}

const char *hx_arg_value(const struct hx_args *a, const char *name)
{
	const struct hx_opt *o = declared(a, name);
	const char *v = NULL;
	for (size_t i = 0; i < a->nset; i++)
		if (a->set[i].opt == o)
			v = a->set[i].value;
	return v;
}

int hx_arg_count(const struct hx_args *a, const char *name)
{
	const struct hx_opt *o = declared(a, name);
	int n = 0;
	for (size_t i = 0; i < a->nset; i++)
		n += a->set[i].opt == o;
	return n;
}

size_t hx_arg_values(const struct hx_args *a, const char *name, const char **v, size_t max)
{
	const struct hx_opt *o = declared(a, name);
	size_t n = 0;
	for (size_t i = 0; i < a->nset; i++) {
		if (a->set[i].opt != o)
			continue;
		if (n < max)
			v[n] = a->set[i].value;
		n++;
	}
	return n;
}

/* ---- the synopsis, shared by --help and the man page --------------------- */

/* "hansa", "hansa search" or "hansa member add" */
static void words(char *out, size_t n, const struct hx_cmd *top, const struct hx_cmd *sub)
{
	snprintf(out, n, "hansa%s%s%s%s", top->name ? " " : "", top->name ? top->name : "",
	         sub ? " " : "", sub ? sub->name : "");
}

/* The synopsis as a list of items: each option ("[--name VALUE]", with
 * "..." when it repeats) to out->opt, then the arguments to out->args;
 * --help and the man page write them in their own way. */
struct synopsis_out {
	void (*opt)(void *arg, const struct hx_opt *o);
	void (*args)(void *arg, const char *text);
	void *arg;
};

static void synopsis(const struct hx_cmd *c, const struct synopsis_out *out)
{
	for (const struct hx_opt *o = c->opts; o && o->name; o++)
		out->opt(out->arg, o);
	if (c->args && *c->args)
		out->args(out->arg, c->args);
}

/* ---- --help --------------------------------------------------------------- */

/* Writes text from column col, wrapping at WIDTH with later lines indented
 * to indent; returns the column it ends at. */
static int wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (col > indent && col + 1 + (int)n > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += (int)n;
		p += n;
	}
	return col;
}

/* The synopsis on a terminal: items never broken inside, a line that
 * would pass WIDTH continues under the first item. */
struct help_line {
	FILE *f;
	int col, indent;
};

static void help_item(struct help_line *h, const char *item)
{
	int n = (int)strlen(item);
	if (h->col != h->indent) { /* not at the start of a continued line */
		if (h->col > h->indent && h->col + 1 + n > WIDTH) {
			fprintf(h->f, "\n%*s", h->indent, "");
			h->col = h->indent;
		} else {
			fputc(' ', h->f);
			h->col++;
		}
	}
	fputs(item, h->f);
	h->col += n;
}

static void help_opt_item(void *arg, const struct hx_opt *o)
{
	char item[160];
	int req = o->flags & HX_OPT_REQUIRED;
	snprintf(item, sizeof item, "%s--%s%s%s%s%s", req ? "" : "[", o->name, o->value ? " " : "",
	         o->value ? o->value : "", req ? "" : "]", o->flags & HX_OPT_MULTI ? "..." : "");
	help_item(arg, item);
}

static void help_args_item(void *arg, const char *text)
{
	help_item(arg, text);
}

static void help_synopsis(FILE *f, const char *lead, const struct hx_cmd *top,
                          const struct hx_cmd *sub)
{
	char w[128];
	words(w, sizeof w, top, sub);
	fprintf(f, "%s%s", lead, w);
	int col = (int)(strlen(lead) + strlen(w));
	struct help_line h = { f, col, col + 1 };
	struct synopsis_out out = { help_opt_item, help_args_item, &h };
	synopsis(sub ? sub : top, &out);
	fputc('\n', f);
}

/* "  NAME" padded to OPT_COL, then text wrapped; a long NAME gets its own
 * line. */
static void help_row(FILE *f, const char *name, const char *text)
{
	int col = fprintf(f, "%s", name);
	if (col + 2 > OPT_COL) {
		fprintf(f, "\n%*s", OPT_COL, "");
	} else {
		fprintf(f, "%*s", OPT_COL - col, "");
	}
	wrap(f, text, OPT_COL, OPT_COL);
	fputc('\n', f);
}

static void help_opts(FILE *f, const struct hx_opt *opts, int with_help)
{
	char name[160];
	for (const struct hx_opt *o = opts; o && o->name; o++) {
		if (o->letter)
			snprintf(name, sizeof name, "  -%c, --%s%s%s", o->letter, o->name,
			         o->value ? " " : "", o->value ? o->value : "");
		else
			snprintf(name, sizeof name, "      --%s%s%s", o->name, o->value ? " " : "",
			         o->value ? o->value : "");
		help_row(f, name, o->help);
	}
	if (with_help)
		help_row(f, "  -h, --help", help_opt.help);
}

static int has_opts(const struct hx_cmd *c)
{
	return c->opts && c->opts[0].name;
}

void hx_cmd_help(const struct hx_cmd *cmd, FILE *f)
{
	if (!cmd->subs) {
		help_synopsis(f, "usage: ", cmd, NULL);
	} else {
		for (const struct hx_cmd *s = cmd->subs; s->name; s++)
			help_synopsis(f, s == cmd->subs ? "usage: " : "       ", cmd, s);
	}
	if (cmd->text)
		fprintf(f, "\n%s", cmd->text);
	if (cmd->subs) {
		fputc('\n', f);
		for (const struct hx_cmd *s = cmd->subs; s->name; s++) {
			char name[160];
			snprintf(name, sizeof name, "  %s%s%s", s->name, s->args ? " " : "",
			         s->args ? s->args : "");
			help_row(f, name, s->summary);
		}
		fprintf(f, "\noptions:\n");
		help_opts(f, NULL, 1);
		for (const struct hx_cmd *s = cmd->subs; s->name; s++) {
			if (!has_opts(s))
				continue;
			fprintf(f, "\noptions of '%s %s':\n", cmd->name, s->name);
			help_opts(f, s->opts, 0);
		}
		return;
	}
	fprintf(f, "\noptions:\n");
	help_opts(f, cmd->opts, 1);
}

/* ---- man pages (roff with the man(7) macros) ------------------------------ */

/* Writes s escaped for roff: backslash, hyphen-minus (so that options
 * copy as ASCII), a '.' or '\'' that would start a request, and every
 * letter beyond ASCII as \[uXXXX] (troff reads bytes, not UTF-8). */
static void roff(FILE *f, const char *s, int line_start)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		line_start = *p == '\n';
		if (*p >= 0x80) {
			/* the text is ours and valid UTF-8: 2 to 4 bytes */
			int n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			uint32_t cp = *p & (0x7f >> n);
			for (int i = 1; i < n && (p[i] & 0xc0) == 0x80; i++)
				cp = cp << 6 | (p[i] & 0x3f);
			fprintf(f, "\\[u%04X]", (unsigned)cp);
			while (*++p && (*p & 0xc0) == 0x80)
				;
			continue;
		}
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else
			fputc(*p, f);
		p++;
	}
}

/* text in font B (bold) or I (italic), then back to roman */
static void man_font(FILE *f, char font, const char *text)
{
	fprintf(f, "\\f%c", font);
	roff(f, text, 0);
	fputs("\\fR", f);
}

/* a word in bold and an optional second one in italic: "--out FILE" */
static void man_pair(FILE *f, const char *bold, const char *italic)
{
	man_font(f, 'B', bold);
	if (italic) {
		fputc(' ', f);
		man_font(f, 'I', italic);
	}
}

static void man_opt_name(FILE *f, const struct hx_opt *o)
{
	char name[80];
	snprintf(name, sizeof name, "--%s", o->name);
	man_pair(f, name, o->value);
}

static void man_opt_item(void *arg, const struct hx_opt *o)
{
	FILE *f = arg;
	int req = o->flags & HX_OPT_REQUIRED;
	if (!req)
		fputc('[', f);
	man_opt_name(f, o);
	fprintf(f, "%s%s\n", req ? "" : "]", o->flags & HX_OPT_MULTI ? "..." : "");
}

static void man_args_item(void *arg, const char *text)
{
	FILE *f = arg;
	man_font(f, 'I', text);
	fputc('\n', f);
}

static void man_synopsis(FILE *f, const struct hx_cmd *top, const struct hx_cmd *sub)
{
	char w[128];
	struct synopsis_out out = { man_opt_item, man_args_item, f };
	words(w, sizeof w, top, sub);
	fputs(".B ", f);
	roff(f, w, 0);
	fputc('\n', f);
	synopsis(sub ? sub : top, &out);
}

/* The prose: runs of lines that start with a space are kept as they are
 * (.nf), the others are filled; a blank line starts a paragraph. */
static void man_text(FILE *f, const char *text)
{
	int nf = 0, para = 1;
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (!n) {
			para = 1;
		} else {
			int pre = text[0] == ' ';
			if (pre != nf) {
				fputs(pre ? ".nf\n" : ".fi\n", f);
				nf = pre;
			}
			if (para && !pre)
				fputs(".PP\n", f);
			else if (para)
				fputs(".sp\n", f);
			para = 0;
			char line[1024];
			snprintf(line, sizeof line, "%.*s", (int)n, text);
			roff(f, line, 1);
			fputc('\n', f);
		}
		text += n + (text[n] == '\n');
	}
	if (nf)
		fputs(".fi\n", f);
}

static void man_opts(FILE *f, const struct hx_opt *opts, int with_help)
{
	for (const struct hx_opt *o = opts; o && o->name; o++) {
		fputs(".TP\n", f);
		if (o->letter)
			fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
		man_opt_name(f, o);
		fputc('\n', f);
		roff(f, o->help, 1);
		fputc('\n', f);
	}
	if (with_help)
		fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow this help and exit\n", f);
}

static void man_head(FILE *f, const char *page, const char *summary)
{
	char upper[128];
	size_t i;
	for (i = 0; page[i] && i < sizeof upper - 1; i++)
		upper[i] = (char)(page[i] >= 'a' && page[i] <= 'z' ? page[i] - 32 : page[i]);
	upper[i] = 0;
	fputs(".\\\" Generated by 'hansa man' from the option tables in cli/: do not edit.\n", f);
	fputs(".TH ", f);
	roff(f, upper, 0);
	/* no hyphenation, ragged right: options and paths stay whole */
	fputs(" 1 \"\" \"hansa\" \"hansa manual\"\n.nh\n.ad l\n.SH NAME\n", f);
	roff(f, page, 0);
	fputs(" \\- ", f);
	roff(f, summary, 0);
	fputs("\n.SH SYNOPSIS\n", f);
}

static void man_exit(FILE *f)
{
	fputs(".SH EXIT STATUS\n.TP\n0\nsuccess\n.TP\n1\nfailure, said in one line on "
	      "standard error\n.TP\n2\na usage error: an unknown option, a missing value or a "
	      "wrong number of arguments\n",
	      f);
}

void hx_cmd_man(const struct hx_cmd *cmd, FILE *f)
{
	char page[128];
	snprintf(page, sizeof page, "hansa-%s", cmd->name);
	man_head(f, page, cmd->summary);
	if (!cmd->subs) {
		man_synopsis(f, cmd, NULL);
	} else {
		for (const struct hx_cmd *s = cmd->subs; s->name; s++) {
			if (s != cmd->subs)
				fputs(".br\n", f);
			man_synopsis(f, cmd, s);
		}
	}
	fputs(".SH DESCRIPTION\n", f);
	if (cmd->text)
		man_text(f, cmd->text);
	if (cmd->subs) {
		fputs(".SH COMMANDS\n", f);
		for (const struct hx_cmd *s = cmd->subs; s->name; s++) {
			fputs(".TP\n", f);
			man_pair(f, s->name, s->args);
			fputc('\n', f);
			roff(f, s->summary, 1);
			fputc('\n', f);
		}
	}
	fputs(".SH OPTIONS\n", f);
	man_opts(f, cmd->opts, 1);
	for (const struct hx_cmd *s = cmd->subs; s && s->name; s++) {
		if (!has_opts(s))
			continue;
		fprintf(f, ".SS %s %s\n", cmd->name, s->name);
		man_opts(f, s->opts, 0);
	}
	man_exit(f);
	fputs(".SH SEE ALSO\n.BR hansa (1)\n", f);
}

void hx_main_man(const struct hx_cmd *prog, const struct hx_cmd *const *cmds, FILE *f)
{
	man_head(f, "hansa", prog->summary);
	man_synopsis(f, prog, NULL);
	fputs(".SH DESCRIPTION\n", f);
	if (prog->text)
		man_text(f, prog->text);
	fputs(".SH COMMANDS\n", f);
	for (const struct hx_cmd *const *c = cmds; *c; c++) {
		fputs(".TP\n", f);
		fprintf(f, ".BR hansa\\-%s (1)\n", (*c)->name);
		roff(f, (*c)->summary, 1);
		fputc('\n', f);
	}
	fputs(".SH OPTIONS\n", f);
	man_opts(f, prog->opts, 1);
	man_exit(f);
	fputs(".SH SEE ALSO\n", f);
	for (const struct hx_cmd *const *c = cmds; *c; c++)
		fprintf(f, ".BR hansa\\-%s (1)%s\n", (*c)->name, c[1] ? "," : "");
}
