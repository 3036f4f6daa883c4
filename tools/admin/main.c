/*
 * greylist-admin - inspect and maintain the greylist database.
 *
 *   greylist-admin [-c FILE] COMMAND [ARGS]
 *   greylist-admin --help | --version
 *
 * One table of commands: dispatch and the usage text both come from it.
 * Exit status 0 on success; 1 with one line on stderr on failure; 2 for
 * usage errors.
 */
#include "admin.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char *progname = "greylist-admin";

static const struct command {
	const char *name;
	const char *synopsis;  /* lines of arguments, '\n' between forms */
	admin_cmd *run;
	int store;             /* 1: configuration and store opened first;
				  0: configuration only; -1: neither (check
				  reads the configuration itself) */
} commands[] = {
	{ "check", "[--json] [--user NAME] [--exim PATH] [--exim-config FILE] "
	  "[--no-exim]", cmd_check, -1 },
	{ "list", "[--json] [--state S] [--client C] [--sender S] "
	  "[--recipient R]", cmd_list, 1 },
	{ "explain", "IP SENDER RECIPIENT [host=NAME] [spf=RESULT] [helo=NAME]",
	  cmd_explain, 1 },
	{ "stats", "[--json] [--since DURATION]\n[--json] --by-domain",
	  cmd_stats, 1 },
	{ "metrics", "[--output FILE]", cmd_metrics, 0 },
	{ "stuck", "[--json] [--since DURATION] [--owner NAME]", cmd_stuck, 1 },
	{ "purge", "[-v]", cmd_purge, 1 },
	{ "delete", "CLIENT SENDER RECIPIENT", cmd_delete, 1 },
	{ "whitelist", "add ENTRY [--comment TEXT] [--owner NAME] "
	  "[--expires WHEN]\ndel ENTRY\nlist [--json]", cmd_whitelist, 1 },
	{ "clients", "[--json]", cmd_clients, 1 },
	{ "export", "> FILE", cmd_export, 1 },
	{ "import", "< FILE", cmd_import, 1 },
	{ "recover", "", cmd_recover, 0 },
	{ "rekey", "", cmd_rekey, 0 },
	{ "snapshot", "[--if-configured]", cmd_snapshot, 0 },
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s [-c FILE] COMMAND [ARGS]\n"
		"       %s --help | --version\n"
		"FILE is the module's configuration (default "
		GL_DEFAULT_CONFIG ").\ncommands:\n", progname, progname);
	for (i = 0; i < NCOMMANDS; i++) {
		const char *s = commands[i].synopsis, *nl;

		do {
			nl = strchr(s, '\n');
			fprintf(out, "  %s %.*s\n", commands[i].name,
				(int)(nl ? (size_t)(nl - s) : strlen(s)), s);
			s = nl + 1;
		} while (nl != NULL);
	}
	fprintf(out, "Run as root, it acts as the owner of the database's "
		"directory (the\nExim user), so the files it creates stay "
		"usable by the module.\nSee greylist-admin(8).\n");
}

void usage(void)
{
	print_usage(stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *cmd = NULL;
	admin a = { GL_DEFAULT_CONFIG, NULL, NULL };
	gl_config cfg;
	gl_err err;
	char p[64];
	size_t i;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': a.conf = optarg; break;
		case 'h': print_usage(stdout); return 0;
		case 'V': printf("%s %s\n", progname, GL_VERSION); return 0;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[0], commands[i].name))
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n",
			progname, gl_printable(p, sizeof p, argv[0]), progname);
		return 2;
	}
	if (cmd->store < 0)    /* check reads the configuration itself */
		return cmd->run(&a, argc, argv);
	if (gl_config_load(a.conf, &cfg, &err) < 0) {
		fprintf(stderr, "%s: %s (run '%s -c %s check' for every "
			"problem)\n", progname, err.msg, progname, a.conf);
		gl_config_free(&cfg);
		return 1;
	}
	for (i = 0; i < cfg.warnings.n; i++)
		fprintf(stderr, "%s: warning: %s\n", progname,
			cfg.warnings.msg[i]);
	if (cfg.warnings.dropped > 0)
		fprintf(stderr, "%s: warning: %zu more whitelist problems (see "
			"'%s -c %s check')\n", progname, cfg.warnings.dropped,
			progname, a.conf);
	a.cfg = &cfg;
	admin_act_as_db_owner(&cfg);
	if (cmd->store && (a.st = gl_store_open(&cfg, &err)) == NULL)
		die_err(&err);
	rc = cmd->run(&a, argc, argv);
	gl_store_close(a.st);
	gl_config_free(&cfg);
	return rc;
}
