/*
 * admin.h - what the parts of greylist-admin share.
 *
 * greylist-admin.c holds the commands that read and change the database;
 * admin_user.c decides which user the tool acts as; admin_check.c is the
 * check command. Every rule of greylisting stays in module/core.
 */
#ifndef GL_ADMIN_H
#define GL_ADMIN_H

#include <stdio.h>
#include <sys/types.h>

#include "../module/core/config.h"

#define EXIM_BIN "/usr/sbin/exim4"

/* A user the tool acts as or checks for. */
typedef struct admin_user {
	uid_t uid;
	gid_t gid;
	char name[64];   /* user name, or the number when it has none */
	char group[64];
} admin_user;

/* Fills u for uid and gid (names looked up). */
void admin_user_set(admin_user *u, uid_t uid, gid_t gid);

/* The directory that holds the database; "" for Redis. */
void admin_db_dir(const gl_config *cfg, char *dir, size_t sz);

/*
 * The files the module keeps for cfg's backend (the database and its
 * lock and snapshot files): up to max names into files, each PATH_MAX
 * bytes. Returns how many.
 */
int admin_db_files(const gl_config *cfg, char files[][PATH_MAX], int max);

/*
 * When path exists and u cannot both read and write it (by its owner,
 * group and mode bits), writes one line into msg saying so and how to
 * mend it, and returns 1; else 0.
 */
int admin_file_unusable(const char *path, const admin_user *u, char *msg,
			size_t sz);

/*
 * Run as root on a file store, the tool acts as the owner of the
 * database's directory (the Exim user: the module must write there), so
 * that every file it creates is one the module can use. Warns on stderr
 * about files already there that this user cannot use. Does nothing
 * when not root, for Redis, or when the directory belongs to root.
 */
void admin_act_as_db_owner(const gl_config *cfg, const char *progname);

/* greylist-admin check; conf is the configuration file to check. */
int cmd_check(const char *conf, int argc, char **argv);

#endif
