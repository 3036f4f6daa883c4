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

/* What a connection writes first, on one page; the configuration, which
 * it only reads when the daemon parsed it, last. */
static struct {
	pid_t pid;
	pid_t warned;          /* the process that logged cfg's warnings */
	int loaded;            /* cfg holds a parsed configuration */
	int warned_args;       /* unknown arguments logged already */
	gl_store *st;
	gl_ctx ctx;            /* what lives across decisions */
	gl_counters *cnt;      /* the mapped counters file, or NULL */
	char out[64];          /* what greylist() yields, before Exim's copy */
	char cnt_path[PATH_MAX]; /* its name; "" before the first try */
	char failed[GL_ERR_MAX]; /* last configuration error logged */
	gl_config cfg;
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

/* Closes the store and what the decisions kept of it. */
static void drop_store(void)
{
	gl_ctx_free(&c.ctx);
	gl_store_close(c.st);
	c.st = NULL;
}

/*
 * The cached configuration for path, loading it when needed; NULL on
 * error. A process that finds one it did not load itself (the Exim
 * daemon's, see greylist_preload(), or its parent's) uses it only while
 * gl_files_current() holds, and otherwise forgets it without freeing
 * it: freeing would write, and so copy, every page it is spread over.
 * Skipped whitelist lines are logged once per process, whoever parsed.
 */
static const gl_config *config(const char *path)
{
	gl_err err;
	pid_t pid = gl_pid();

	if (c.pid != pid) {
		drop_store();
		c.pid = pid;
		if (c.loaded && (strcmp(c.cfg.path, path) != 0 ||
				 !gl_files_current(&c.cfg.files)))
			c.loaded = 0; /* inherited: forgotten, not freed */
	}
	if (c.loaded && strcmp(c.cfg.path, path) != 0) {
		drop_store();
		gl_config_free(&c.cfg);
		c.loaded = 0;
	}
	if (!c.loaded) {
		if (gl_config_load(path, &c.cfg, &err) < 0) {
			if (strcmp(err.msg, c.failed) != 0) {
				size_t more = c.cfg.errors.n +
					      c.cfg.errors.dropped;

				log_write(0, LOG_MAIN | LOG_PANIC, "greylist: "
					  "%s%s; answering per on_error until "
					  "it is mended: run 'greylist-admin -c "
					  "%s check'", err.msg, more > 1 ?
					  " (and more problems)" : "", path);
				memcpy(c.failed, err.msg, sizeof c.failed);
			}
			gl_config_free(&c.cfg);
			return NULL;
		}
		c.loaded = 1;
	}
	if (c.warned != c.pid) {
		c.warned = c.pid;
		log_warnings(&c.cfg.warnings, path);
	}
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
__attribute__((noinline)) /* its buffer off the decision's stack */
static void count(const gl_config *cfg, const gl_result *res, gl_time now)
{
	char path[PATH_MAX];
	gl_err err;

	/* Which file: a few string operations, no system call. */
	if (gl_counters_path(cfg, path, sizeof path) != 0)
		return;                 /* counters = none, or too long */
	if (c.cnt_path[0] == '\0' || strcmp(path, c.cnt_path) != 0) {
		gl_counters_close(c.cnt);
		memcpy(c.cnt_path, path, strlen(path) + 1);
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
__attribute__((noinline)) /* its buffers off the decision's stack */
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
	gl_yield(&res, c.out, sizeof c.out);
	if (cfg != &fallback) {
		count(cfg, &res, now);
		log_decision(cfg, &req, &res);
	}
	*yield = string_copy((uschar *)c.out);
	return OK;
}

/*
 * What the daemon should load for configuration file conf, and whether
 * it may read the files itself, worked out in a child process (a crash
 * there costs the daemon nothing; a hang, PRELOAD_WAIT_MS): its backend,
 * whether match_pools is on, and whether it parsed without error and
 * every file is on a local file system (gl_files_local()). 0 then; -1
 * when the child gave no answer (an error in the configuration, a
 * crash); -2 when it gave none in time and was killed.
 */
#define PRELOAD_WAIT_MS 2000

static int preload_plan(const char *conf, int *backend_r, int *pools_r,
			int *local_r)
{
	unsigned char b[3];
	int fd[2], st, killed = 0;
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
			b[2] = (unsigned char)gl_files_local(&cfg->files);
			if (write(fd[1], b, 3) != 3)
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
		if (r > 0) {
			do
				n = read(fd[0], b, 3);
			while (n < 0 && errno == EINTR);
		} else { /* timed out, or poll failed: it may still run (not
			  * reaped yet, so its pid is still its own) */
			kill(pid, SIGKILL);
			killed = 1;
		}
		break;
	}
	close(fd[0]);
	/* Exim's own SIGCHLD handler may reap it first: ECHILD then. A
	 * child killed in the middle of a read from a dead file system
	 * dies only when the read returns: not waited for (Exim's handler
	 * reaps it then). */
	while (waitpid(pid, &st, killed ? WNOHANG : 0) < 0 && errno == EINTR)
		;
	if (killed)
		return -2;
	if (n != 3)
		return -1;
	*backend_r = b[0];
	*pools_r = b[1];
	*local_r = b[2];
	return 0;
}

/*
 * ${dlfunc{GREYLIST_SO}{greylist_preload}{CONF}} yields "" and never fails.
 * greylist-setup-exim4 puts it into smtp_accept_max_per_host, which the
 * Exim daemon expands before it forks for a connection: the module is
 * then loaded once, in the daemon, and every connection process inherits
 * it loaded instead of loading it (and the store library) again, which is
 * most of what the module costs a short connection.
 *
 * Once per process it resolves libcidr's lazily bound functions
 * (gl_addr_bind). Then, at most once a second, unless the configuration
 * it keeps is still current (gl_files_current(), a stat() of each file),
 * it has a child process parse CONF (preload_plan()), loads the library
 * of the backend CONF names and, with match_pools, libpsl and the Public
 * Suffix List; and if the child parsed CONF without error and every file
 * is on a local file system, it parses CONF and its whitelists itself
 * and keeps them, when they had settled: a connection process that finds
 * the files unchanged uses that configuration instead of reading them
 * again (config()). The daemon thus only ever stats or reads files on a
 * local file system, after a child read them in time. It opens no store
 * and reports nothing: a problem shows at the first RCPT, in the
 * connection process, as without it. After a failure it tries again
 * PRELOAD_RETRY seconds later (GL_SETTLE_SECS for files just changed), or
 * PRELOAD_RETRY_HUNG after a child that did not answer in time or files
 * on a network file system.
 */
#define PRELOAD_RETRY 10
#define PRELOAD_RETRY_HUNG 300

static time_t preload(const char *conf, time_t now)
{
	int backend, pools, local, rc;
	const char *reg;
	gl_err err;

	if (c.loaded) {
		gl_config_free(&c.cfg);
		c.loaded = 0;
	}
	rc = preload_plan(conf, &backend, &pools, &local);
	if (rc < 0)
		return now + (rc == -2 ? PRELOAD_RETRY_HUNG : PRELOAD_RETRY);
	(void)gl_store_preload((enum gl_backend)backend, &err);
	/* On failure forget it all, so that each connection process tries
	 * again and logs why. */
	if (pools && gl_psl_registered("example.org", &reg, &err) < 0)
		gl_psl_reset(NULL, NULL);
	if (local) {
		int ok = gl_config_load(conf, &c.cfg, &err) == 0;

		if (ok && c.cfg.files.settled) {
			c.loaded = 1;
			return 0;
		}
		/* Not kept (the connection processes would not use an
		 * unsettled one): they read the files themselves. */
		gl_config_free(&c.cfg);
		return now + (ok ? GL_SETTLE_SECS : PRELOAD_RETRY);
	}
	/* On a network file system: never looked at by the daemon. */
	return now + PRELOAD_RETRY_HUNG;
}

__attribute__((visibility("default")))
int greylist_preload(uschar **yield, int argc, uschar *argv[])
{
	static int bound;
	static time_t checked, retry_at;
	const char *conf = argc >= 1 ? (const char *)argv[0] : NULL;
	time_t now = time(NULL);

	*yield = string_copy((uschar *)"");
	/* A process that made a decision keeps the configuration its store
	 * was opened with (config() looks after it). Statics are written
	 * only when they change: each written page costs every process
	 * forked since then a copy of it. */
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
	retry_at = preload(conf, now);
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
