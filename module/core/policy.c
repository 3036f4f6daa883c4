/* policy.c - the greylisting state machine (see policy.h). */
#include "policy.h"

#include <string.h>

gl_time gl_refresh_interval(gl_time pass_lifetime)
{
	gl_time r = pass_lifetime / 64;

	return r > 86400 ? 86400 : r;
}

gl_time gl_policy_record_end(const gl_config *cfg, const gl_record *r)
{
	return r->state == GL_PENDING ? r->first_seen + cfg->retry_window :
	       r->last_seen + cfg->pass_lifetime;
}

gl_time gl_policy_client_end(const gl_config *cfg, const gl_client_record *c)
{
	return c->last_pass + cfg->pass_lifetime;
}

int gl_policy_auto_whitelisted(const gl_config *cfg,
			       const gl_client_record *c, const gl_record *old,
			       gl_time now)
{
	return (old == NULL || old->state != GL_PASSED) &&
	       cfg->auto_whitelist_clients > 0 &&
	       c->count >= cfg->auto_whitelist_clients &&
	       now <= gl_policy_client_end(cfg, c);
}

static void start(const gl_config *cfg, gl_time now, const char *why,
		  gl_decision *d)
{
	d->verdict = GL_DEFER;
	d->wait = cfg->delay;
	d->reason = why;
	d->write = 1;
	d->rec.state = GL_PENDING;
	d->rec.attempts = 1;
	d->rec.first_seen = now;
	d->rec.last_seen = now;
	d->rec.passed_at = 0;
}

void gl_policy_decide(const gl_config *cfg, const gl_record *cur, gl_time now,
		      gl_decision *d)
{
	gl_time age, idle;

	memset(d, 0, sizeof *d);
	if (cur == NULL) {
		start(cfg, now, "new", d);
		return;
	}
	d->rec = *cur;
	if (cur->state == GL_PENDING) {
		age = now - cur->first_seen;
		if (age < 0 || now > gl_policy_record_end(cfg, cur)) {
			start(cfg, now, "restart", d);
			return;
		}
		if (cur->attempts < UINT32_MAX)
			d->rec.attempts++;
		d->rec.last_seen = now;
		d->write = 1;
		if (age < cfg->delay) {
			d->verdict = GL_DEFER;
			d->wait = cfg->delay - age;
			d->reason = "early";
		} else {
			d->verdict = GL_ACCEPT;
			d->reason = "pass";
			d->rec.state = GL_PASSED;
			d->rec.passed_at = now;
		}
		return;
	}
	idle = now - cur->last_seen;
	if (now > gl_policy_record_end(cfg, cur)) {
		start(cfg, now, "restart", d);
		return;
	}
	d->verdict = GL_ACCEPT;
	d->reason = "known";
	if (idle >= gl_refresh_interval(cfg->pass_lifetime) && idle > 0) {
		d->rec.last_seen = now;
		d->write = 1;
	}
}
