/*
 * greylist.c - the Exim ${dlfunc} entry point; all logic is in core/.
 *
 *   ${dlfunc{greylist.so}{greylist}{CONF}{IP}{SENDER}{RCPT}[{name=value}...]}
 *
 * Yields "defer SECONDS REASON" or "accept REASON" and always returns OK:
 * a failed expansion would make Exim answer 451 whatever on_error says.
 * The parsed configuration and the store are cached for the life of the
 * process (Exim keeps the library loaded; one process serves a whole SMTP
 * connection), and dropped when the process id changes (a fork).
 */
#define DLFUNC_IMPL
#include <local_scan.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/counters.h"
#include "core/decide.h"
#include "core/psl.h"

#define LOG_WARNINGS_MAX 5 /* skipped whitelist lines logged one by one */

static struct {
	pid_t pid;
	int loaded;            /* cfg holds a parsed configuration */
	gl_config cfg;
	gl_store *st;
	gl_ctx ctx;            /* what lives across decisions */
	char failed[GL_ERR_MAX]; /* last configuration error logged */
	int warned_args;       /* unknown arguments logged already */
	gl_counters *cnt;      /* the mapped counters file, or NULL */
	char cnt_path[PATH_MAX]; /* its name; "" before the first try */
} c;

static void log_main(const char *msg)
{
	log_write(0, LOG_MAIN, "greylist: %s", msg);
}

/* Logs what the configuration skipped (once per process: the
 * configuration is loaded once), a few lines at most. */
static void log_warnings(const gl_notes *w, const char *path)
{
	size_t i, shown = w->n < LOG_WARNINGS_MAX ? w->n : LOG_WARNINGS_MAX;

	for (i = 0; i < shown; i++)
		log_write(0, LOG_MAIN | LOG_PANIC, "greylist: %s (greylisting "
			  "goes on; run 'greylist-admin -c %s check')",
			  w->msg[i], path);
	if (w->n + w->dropped > shown)
		log_write(0, LOG_MAIN | LOG_PANIC, "greylist: %d more "
			  "whitelist problems; run 'greylist-admin -c %s "
			  "check'", (int)(w->n + w->dropped - shown), path);
}

/* The cached configuration for path, loading it when needed; NULL on error.
 * A process that finds one it did not load itself (the Exim daemon's, or
 * its parent's) uses it only if its files are unchanged. */
static const gl_config *config(const char *path)
{
	gl_err err;

	if (c.pid != gl_pid()) {
		gl_ctx_free(&c.ctx);
		gl_store_close(c.st);
		c.st = NULL;
		c.pid = gl_pid();
		if (c.loaded && strcmp(c.cfg.path, path) == 0 &&
		    gl_files_current(&c.cfg.files)) {
			log_warnings(&c.cfg.warnings, path);
			return &c.cfg;
		}
		if (c.loaded) {
			gl_config_free(&c.cfg);
			c.loaded = 0;
		}
	}
	if (c.loaded && strcmp(c.cfg.path, path) == 0)
		return &c.cfg;
	if (c.loaded) {
		gl_ctx_free(&c.ctx);
		gl_store_close(c.st);
		c.st = NULL;
		gl_config_free(&c.cfg);
		c.loaded = 0;
	}
	if (gl_config_load(path, &c.cfg, &err) < 0) {
		if (strcmp(err.msg, c.failed) != 0) {
			size_t more = c.cfg.errors.n + c.cfg.errors.dropped;

			log_write(0, LOG_MAIN | LOG_PANIC, "greylist: %s%s; "
				  "answering per on_error until it is mended: "
				  "run 'greylist-admin -c %s check'", err.msg,
				  more > 1 ? " (and more problems)" : "", path);
			memcpy(c.failed, err.msg, sizeof c.failed);
		}
		gl_config_free(&c.cfg);
		return NULL;
	}
	c.loaded = 1;
	log_warnings(&c.cfg.warnings, path);
	return &c.cfg;
}

/* Once per process: why host names key on the subnet for want of the
 * Public Suffix List (psl.h). */
static void log_psl_problem(void)
{
	const char *p = gl_psl_problem();

	if (p != NULL)
		log_write(0, LOG_MAIN | LOG_PANIC, "greylist: %s; verified "
			  "host names key on the subnet until it is mended",
			  p);
}

/* Picks host=, spf= and helo= out of the optional arguments. */
static void options(int argc, uschar *argv[], gl_request *req)
{
	char p[128];
	int i;

	for (i = 4; i < argc; i++) {
		const char *a = (const char *)argv[i];
		const char *v = strchr(a, '=');
		const char **slot = NULL;

		if (v != NULL && v - a == 4 && !strncmp(a, "host", 4))
			slot = &req->host;
		else if (v != NULL && v - a == 3 && !strncmp(a, "spf", 3))
			slot = &req->spf;
		else if (v != NULL && v - a == 4 && !strncmp(a, "helo", 4))
			slot = &req->helo;
		if (slot != NULL) {
			*slot = v[1] ? v + 1 : NULL;
		} else if (!c.warned_args) {
			c.warned_args = 1;
			log_write(0, LOG_MAIN | LOG_PANIC, "greylist: unknown "
				  "argument '%s' ignored (want host=, spf= "
				  "or helo=)", gl_printable(p, sizeof p, a));
		}
	}
}

/*
 * Counts the decision in the counters file, mapped at the first decision
 * of the process (open, fstat, mmap, close) and then with no system call.
 * A file that cannot be used is logged once per process and costs
 * nothing but the counting: never the answer.
 */
static void count(const gl_config *cfg, const gl_result *res, gl_time now)
{
	char path[PATH_MAX];
	gl_err err;

	/* Which file: a few string operations, no system call. */
	if (gl_counters_path(cfg, path, sizeof path) != 0)
		return;                 /* counters = none, or too long */
	if (c.cnt_path[0] == '\0' || strcmp(path, c.cnt_path) != 0) {
		gl_counters_close(c.cnt);
		memcpy(c.cnt_path, path, sizeof path);
		c.cnt = gl_counters_open(path, now, &err);
		if (c.cnt == NULL)
			log_write(0, LOG_MAIN, "greylist: counters: %s; "
				  "decisions are not counted (greylisting goes "
				  "on)", err.msg);
	}
	gl_counters_count(c.cnt, res);
}

/*
 * One line per decision (README, "Logs"): "greylist: defer N REASON" or
 * "greylist: accept REASON", then key=value pairs: client, ip, sender,
 * rcpt, then whitelist= (the entry's origin) or delay= (a pass: seconds
 * held) when they apply. Keys are only ever added at the end.
 */
static void log_decision(const gl_config *cfg, const gl_request *req,
			 const gl_result *res)
{
	char ip[64], s[256], r[256], head[48], tail[48];

	if (cfg->log == GL_LOG_NONE ||
	    (cfg->log == GL_LOG_DEFER && res->verdict != GL_DEFER))
		return;
	if (res->verdict == GL_DEFER)
		snprintf(head, sizeof head, "defer %lld %s",
			 (long long)res->wait, res->reason ? res->reason : "-");
	else
		snprintf(head, sizeof head, "accept %s",
			 res->reason ? res->reason : "-");
	tail[0] = '\0';
	if (gl_held(res) >= 0)
		snprintf(tail, sizeof tail, " delay=%lld",
			 (long long)gl_held(res));
	log_write(0, LOG_MAIN, "greylist: %s client=%s ip=%s sender=<%s> "
		  "rcpt=<%s>%s%s%s", head, res->t.client[0] ? res->t.client : "-",
		  gl_printable(ip, sizeof ip, req->ip),
		  gl_printable(s, sizeof s, res->t.sender),
		  gl_printable(r, sizeof r, res->t.rcpt),
		  res->wl ? " whitelist=" : "", res->wl ? res->wl->origin : "",
		  tail);
}

__attribute__((visibility("default")))
int greylist(uschar **yield, int argc, uschar *argv[])
{
	static char out[64];
	static gl_config fallback; /* defaults: too large for Exim's stack */
	const gl_config *cfg = NULL;
	gl_request req;
	gl_result res;
	gl_err err;
	gl_time now = time(NULL);

	/* Every path logs res (log = all): it starts empty, never
	 * uninitialised, whichever way the decision fails. */
	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	if (argc >= 1 && argv[0] != NULL)
		cfg = config((const char *)argv[0]);
	if (cfg == NULL) {
		gl_config_defaults(&fallback);
		cfg = &fallback;
	}
	if (argc < 4) {
		log_write(0, LOG_MAIN | LOG_PANIC, "greylist: called with %d "
			  "arguments, want CONF IP SENDER RECIPIENT", argc);
		gl_error_result(cfg, &res);
	} else if (cfg == &fallback) {
		gl_error_result(cfg, &res);
	} else {
		req.ip = (const char *)argv[1];
		req.sender = (const char *)argv[2];
		req.rcpt = (const char *)argv[3];
		options(argc, argv, &req);
		if (c.st == NULL && (c.st = gl_store_open(cfg, &err)) != NULL)
			gl_ctx_init(&c.ctx, cfg, c.st);
		if (c.st == NULL) {
			gl_error_result(cfg, &res);
			log_write(0, LOG_MAIN, "greylist: %s; run 'greylist-admin "
				  "-c %s check'", err.msg, cfg->path);
		} else if (gl_decide(&c.ctx, &req, now, 0, &res,
				     &err) < 0) {
			gl_error_result(cfg, &res);
			log_main(err.msg);
		}
		log_psl_problem();
	}
	gl_yield(&res, out, sizeof out);
	if (cfg != &fallback) {
		count(cfg, &res, now);
		log_decision(cfg, &req, &res);
	}
	*yield = string_copy((uschar *)out);
	return OK;
}

/*
 * What the daemon should load for configuration file conf: its backend
 * and whether match_pools is on, worked out in a child process, so that
 * the daemon itself parses no file (a crash there would stop all mail;
 * in the child it costs nothing) and waits for it PRELOAD_WAIT_MS at
 * most. -1 when the child gave no answer in time.
 */
#define PRELOAD_WAIT_MS 2000

static int preload_plan(const char *conf, int *backend_r, int *pools_r)
{
	unsigned char b[2];
	int fd[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		gl_config *cfg = malloc(sizeof *cfg);
		gl_err err;

		close(fd[0]);
		if (cfg != NULL && gl_config_load(conf, cfg, &err) == 0) {
			b[0] = (unsigned char)cfg->backend;
			b[1] = (unsigned char)(cfg->match_pools != 0);
			if (write(fd[1], b, 2) != 2)
				_exit(1);
		}
		_exit(0);
	}
	close(fd[1]);
	/* The daemon must never hang here (a whitelist on a dead network
	 * file system, a FIFO): the child gets PRELOAD_WAIT_MS, then is
	 * killed and nothing is preloaded. */
	n = -1;
	for (;;) {
		struct pollfd pf = { fd[0], POLLIN, 0 };
		int r = poll(&pf, 1, PRELOAD_WAIT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			do
				n = read(fd[0], b, 2);
			while (n < 0 && errno == EINTR);
		else /* timed out, or poll failed: it may still run (not
		      * reaped yet, so its pid is still its own) */
			kill(pid, SIGKILL);
		break;
	}
	close(fd[0]);
	/* Exim's own SIGCHLD handler may reap it first: ECHILD then. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != 2)
		return -1;
	*backend_r = b[0];
	*pools_r = b[1];
	return 0;
}

/*
 * ${dlfunc{GREYLIST_SO}{greylist_preload}{CONF}} yields "" and never fails.
 * greylist-setup-exim4 puts it into smtp_accept_max_per_host, which the
 * Exim daemon expands before it forks for a connection: the module is
 * then loaded once, in the daemon, and every connection process inherits
 * it loaded instead of loading it (and the store library) again, which is
 * most of what the module costs a short connection. Once per process it
 * resolves libcidr's lazily bound functions (gl_addr_bind). Then, at most
 * once a second and only when CONF or a whitelist file changed (or was
 * not yet read), it has a child process parse CONF (preload_plan(): a
 * crash or a hang there costs the daemon nothing), loads the library of
 * the backend CONF names and, with match_pools, libpsl and the Public
 * Suffix List, and, if the child parsed CONF without error, parses CONF
 * and its whitelists itself and keeps them: a connection process that
 * finds its files unchanged (gl_files_current(), a stat() each) uses that
 * configuration instead of reading them again. It opens no store and
 * reports nothing: a problem shows at the first RCPT, in the connection
 * process, as without it. A failed attempt is tried again PRELOAD_RETRY
 * seconds later.
 */
#define PRELOAD_RETRY 10

__attribute__((visibility("default")))
int greylist_preload(uschar **yield, int argc, uschar *argv[])
{
	static int bound;
	static time_t checked, retry_at;
	const char *conf = argc >= 1 ? (const char *)argv[0] : NULL;
	int backend, pools;
	time_t now = time(NULL);
	gl_err err;

	*yield = string_copy((uschar *)"");
	/* A process that made a decision keeps the configuration its store
	 * was opened with (config() looks after it). Statics are written
	 * only when they change: each written page costs every process
	 * forked since a copy of it. */
	if (conf == NULL || c.st != NULL || now == checked)
		return OK;
	checked = now;
	if (!bound) {
		bound = 1;
		gl_addr_bind();
	}
	if (c.loaded && strcmp(c.cfg.path, conf) == 0 &&
	    gl_files_current(&c.cfg.files))
		return OK;
	if (now < retry_at)
		return OK;
	if (c.loaded) {
		gl_config_free(&c.cfg);
		c.loaded = 0;
	}
	if (preload_plan(conf, &backend, &pools) == 0) {
		const char *reg;

		(void)gl_store_preload((enum gl_backend)backend, &err);
		/* On failure forget it all, so that each connection
		 * process tries again and logs why. */
		if (pools && gl_psl_registered("example.org", &reg, &err) < 0)
			gl_psl_reset(NULL, NULL);
		if (gl_config_load(conf, &c.cfg, &err) == 0) {
			c.loaded = 1;
			c.pid = gl_pid();
			if (c.cfg.files.settled)
				return OK;
			/* read again once it settled: in GL_SETTLE_SECS */
			retry_at = now + GL_SETTLE_SECS;
			return OK;
		}
		gl_config_free(&c.cfg);
	}
	retry_at = now + PRELOAD_RETRY;
	return OK;
}

/*
 * ${dlfunc{GREYLIST_SO}{greylist_version}} yields "exim-greylist VERSION":
 * greylist-admin check calls it through Exim to see that the module
 * Exim names loads in Exim and which release it is. Reads nothing.
 */
__attribute__((visibility("default")))
int greylist_version(uschar **yield, int argc, uschar *argv[])
{
	(void)argc, (void)argv;
	*yield = string_copy((uschar *)"exim-greylist " GL_VERSION);
	return OK;
}
