/* http_coding.c - q-value lists. See http_coding.h. */
#include "http_coding.h"

#include <stddef.h>

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths. */
static int
parse_qvalue(const char *p, size_t n)
{
	if (n == 0 || (p[0] != '0' && p[0] != '1') || n > 5 || (n > 1 && p[1] != '.'))
		return 0;
	int v = (p[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v += (p[i] - '0') * scale;
	}
	return v > 1000 ? 0 : v;
}

struct coding_lookup {
	const char *coding;
	int q, star_q; /* -1 while not seen */
};

/* One Accept-Encoding element: coding *( OWS ";" OWS "q=" qvalue ). */
static int
coding_element(struct http_slice el, void *arg)
{
	struct coding_lookup *l = arg;
	size_t i = 0;
	while (i < el.len && el.p[i] != ';' && el.p[i] != ' ' && el.p[i] != '\t')
		i++;
	struct http_slice name = {el.p, i};
	int q = 1000;
	while (i < el.len) {
		while (i < el.len && (el.p[i] == ' ' || el.p[i] == '\t' || el.p[i] == ';'))
			i++;
		size_t s = i;
		while (i < el.len && el.p[i] != ';')
			i++;
		size_t e = i;
		while (e > s && (el.p[e - 1] == ' ' || el.p[e - 1] == '\t'))
			e--;
		if (e - s >= 2 && (el.p[s] == 'q' || el.p[s] == 'Q') && el.p[s + 1] == '=')
			q = parse_qvalue(el.p + s + 2, e - s - 2);
	}
	if (http_slice_eq(name, l->coding))
		l->q = q;
	else if (name.len == 1 && name.p[0] == '*')
		l->star_q = q;
	return 0;
}

int
http_coding_q(struct http_slice accept_encoding, const char *coding)
{
	struct coding_lookup l = {coding, -1, -1};
	(void)http_list_each(accept_encoding, coding_element, &l);
	if (l.q >= 0)
		return l.q;
	return l.star_q > 0 ? l.star_q : 0;
}
