/*
 * xapian.cc: the Xapian anchor of bench_search (see xapian.h). C++ because
 * Xapian's API is; nothing of hansa is linked in here.
 */
#include <xapian.h>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include "bench/xapian.h"

struct hxb_xapian {
	Xapian::WritableDatabase db;
	Xapian::TermGenerator tg;
	std::map<std::string, Xapian::Stem> stems;
	std::string dir;
	Xapian::Enquire *enq = nullptr;
	size_t fetched = 0; /* bytes of document data read by searches */
};

/* Xapian's Snowball stemmer for a language tag ("de-AT" -> german), or
 * none when it has no stemmer for it. */
static const Xapian::Stem &stem_for(hxb_xapian *x, const char *lang)
{
	std::string base(lang ? lang : "");
	base = base.substr(0, base.find_first_of("-_"));
	auto it = x->stems.find(base);
	if (it != x->stems.end())
		return it->second;
	Xapian::Stem s;
	try {
		s = Xapian::Stem(base);
	} catch (const Xapian::Error &) {
		s = Xapian::Stem(); /* no stemmer: terms as written */
	}
	return x->stems.emplace(base, s).first->second;
}

hxb_xapian *hxb_xapian_new(const char *dir, int reuse, unsigned long *ndocs)
{
	try {
		hxb_xapian *x = new hxb_xapian;
		x->dir = dir;
		x->db = Xapian::WritableDatabase(dir, reuse ? Xapian::DB_CREATE_OR_OPEN
		                                            : Xapian::DB_CREATE_OR_OVERWRITE);
		*ndocs = x->db.get_doccount();
		/* made before documents stored their data: build it again */
		if (*ndocs && x->db.get_document(x->db.get_lastdocid()).get_data().empty()) {
			x->db.close(); /* its write lock */
			x->db = Xapian::WritableDatabase(dir, Xapian::DB_CREATE_OR_OVERWRITE);
			*ndocs = 0;
		}
		return x;
	} catch (const Xapian::Error &e) {
		fprintf(stderr, "bench_search: xapian: %s\n", e.get_description().c_str());
		return nullptr;
	}
}

int hxb_xapian_add(hxb_xapian *x, unsigned id, const char *title, const char *tags,
		   const char *body, const char *lang, const char *data, size_t len)
{
	try {
		Xapian::Document d;
		d.set_data(std::string(data, len));
		x->tg.set_document(d);
		x->tg.set_stemmer(stem_for(x, lang));
		x->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
		x->tg.index_text(title, 4);
		x->tg.increase_termpos();
		x->tg.index_text(tags, 2);
		x->tg.increase_termpos();
		x->tg.index_text(body, 1);
		x->db.replace_document(id, d);
		return 0;
	} catch (const Xapian::Error &e) {
		fprintf(stderr, "bench_search: xapian: %s\n", e.get_description().c_str());
		return -1;
	}
}

unsigned long long hxb_xapian_commit(hxb_xapian *x)
{
	try {
		x->db.commit();
		delete x->enq;
		x->enq = new Xapian::Enquire(x->db);
		x->enq->set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
		std::string cmd = "du -sb '" + x->dir + "'";
		unsigned long long bytes = 0;
		FILE *p = popen(cmd.c_str(), "r");
		if (p) {
			if (fscanf(p, "%llu", &bytes) != 1)
				bytes = 0;
			pclose(p);
		}
		return bytes;
	} catch (const Xapian::Error &e) {
		fprintf(stderr, "bench_search: xapian: %s\n", e.get_description().c_str());
		return 0;
	}
}

long hxb_xapian_search(hxb_xapian *x, const char *query, const char *lang, long *ids, int max,
                       int fetch)
{
	try {
		Xapian::QueryParser qp;
		qp.set_database(x->db);
		qp.set_stemmer(stem_for(x, lang));
		qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
		qp.set_default_op(Xapian::Query::OP_AND);
		x->enq->set_query(qp.parse_query(query));
		Xapian::MSet m = x->enq->get_mset(0, (Xapian::doccount)max);
		int n = 0;
		size_t bytes = 0;
		for (auto it = m.begin(); it != m.end() && n < max; ++it) {
			ids[n++] = (long)*it;
			if (fetch)
				bytes += it.get_document().get_data().size();
		}
		x->fetched += bytes; /* so that the reads are not optimised away */
		return (long)m.get_matches_estimated();
	} catch (const Xapian::Error &e) {
		fprintf(stderr, "bench_search: xapian [%s]: %s\n", query, e.get_description().c_str());
		return -1;
	}
}

void hxb_xapian_free(hxb_xapian **px)
{
	if (!px || !*px)
		return;
	delete (*px)->enq;
	delete *px;
	*px = nullptr;
}
