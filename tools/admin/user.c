/* admin_user.c - which user greylist-admin acts as, and files that user
 * cannot use. */
#include "admin.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

void admin_user_set(admin_user *u, uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);

	u->uid = uid;
	u->gid = gid;
	if (pw == NULL || gl_copy(u->name, sizeof u->name, pw->pw_name) < 0)
		snprintf(u->name, sizeof u->name, "%lu", (unsigned long)uid);
	if (gr == NULL || gl_copy(u->group, sizeof u->group, gr->gr_name) < 0)
		snprintf(u->group, sizeof u->group, "%lu", (unsigned long)gid);
}

void admin_dir_of(const char *path, char *dir, size_t sz)
{
	char *slash;

	if (gl_copy(dir, sz, path) < 0) {
		dir[0] = '\0';
		return;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

void admin_db_dir(const gl_config *cfg, char *dir, size_t sz)
{
	dir[0] = '\0';
	if (cfg->backend != GL_BACKEND_REDIS)
		admin_dir_of(cfg->database, dir, sz);
}

int admin_db_files(const gl_config *cfg, char files[][PATH_MAX], int max)
{
	static const char *const lmdb_suffix[] = { "", "-lock", ".wlock" };
	int n = 0;
	size_t i;

	if (cfg->backend == GL_BACKEND_REDIS)
		return 0;
	if (cfg->backend == GL_BACKEND_GDBM) {
		snprintf(files[n++], PATH_MAX, "%s", cfg->database);
		if (n < max && snprintf(files[n], PATH_MAX, "%s.wlock",
					cfg->database) < PATH_MAX)
			n++;
		if (cfg->snapshot[0] && n < max)
			snprintf(files[n++], PATH_MAX, "%s", cfg->snapshot);
		return n;
	}
	for (i = 0; i < sizeof lmdb_suffix / sizeof *lmdb_suffix && n < max; i++)
		if (snprintf(files[n], PATH_MAX, "%s%s", cfg->database,
			     lmdb_suffix[i]) < PATH_MAX)
			n++;
	if (cfg->snapshot[0] && n < max)
		snprintf(files[n++], PATH_MAX, "%s", cfg->snapshot);
	return n;
}

/* Whether u may read and write a file of this owner and mode (its
 * supplementary groups included). */
static int may_rw(const admin_user *u, const struct stat *st)
{
	gid_t groups[64];
	int ng = (int)(sizeof groups / sizeof *groups), i;
	struct passwd *pw;

	if (u->uid == 0 || st->st_uid == u->uid)
		return u->uid == 0 || (st->st_mode & 0600) == 0600;
	if (st->st_gid == u->gid)
		return (st->st_mode & 0060) == 0060;
	pw = getpwuid(u->uid);
	if (pw != NULL && getgrouplist(pw->pw_name, u->gid, groups, &ng) >= 0)
		for (i = 0; i < ng; i++)
			if (groups[i] == st->st_gid)
				return (st->st_mode & 0060) == 0060;
	return (st->st_mode & 0006) == 0006;
}

int admin_file_unusable(const char *path, const admin_user *u, char *msg,
			size_t sz)
{
	admin_user owner;
	struct stat st;

	if (stat(path, &st) < 0 || may_rw(u, &st))
		return 0;
	admin_user_set(&owner, st.st_uid, st.st_gid);
	snprintf(msg, sz, "%s belongs to %s:%s with mode %04o, so %s cannot "
		 "write it; mend it with: chown %s:%s '%s'", path, owner.name,
		 owner.group, (unsigned)(st.st_mode & 07777), u->name, u->name,
		 u->group, path);
	return 1;
}

void admin_act_as_db_owner(const gl_config *cfg)
{
	char dir[PATH_MAX], files[4][PATH_MAX], msg[3 * PATH_MAX];
	admin_user u;
	struct stat st;
	int i, n;

	admin_db_dir(cfg, dir, sizeof dir);
	if (geteuid() != 0 || dir[0] == '\0' || stat(dir, &st) < 0 ||
	    st.st_uid == 0)
		return;
	admin_user_set(&u, st.st_uid, st.st_gid);
	n = admin_db_files(cfg, files, 4);
	for (i = 0; i < n; i++)
		if (admin_file_unusable(files[i], &u, msg, sizeof msg))
			fprintf(stderr, "%s: warning: %s\n", progname, msg);
	/* The filesystem ids only: every file this process creates
	 * belongs to u, and every access to a file is checked as u's (the
	 * kernel drops root's file capabilities with them), while the
	 * process stays root for everything else. */
	/* The owner's groups too: a file of a group root is in but the
	 * Exim user is not must look as unusable here as to the module. */
	if (initgroups(u.name, u.gid) < 0 && setgroups(0, NULL) < 0) {
		fprintf(stderr, "%s: cannot take the groups of %s: %s\n",
			progname, u.name, strerror(errno));
		exit(1);
	}
	(void)setfsgid(u.gid);
	(void)setfsuid(u.uid);
	if ((uid_t)setfsuid((uid_t)-1) != u.uid ||
	    (gid_t)setfsgid((gid_t)-1) != u.gid) {
		fprintf(stderr, "%s: cannot act as %s, the owner of %s\n",
			progname, u.name, dir);
		exit(1);
	}
}
