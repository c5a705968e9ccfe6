/* SPDX-License-Identifier: ISC */
/* lib/privdrop.c */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "privdrop.h"

static char	 top[] = "/tmp/meshkit-privdrop.XXXXXX";
static char	 path[256];

static int
setup(void **state)
{
	(void)state;
	log_init("test_privdrop", 1, LOG_LEVEL_WARN);
	unsetenv("MESHKIT_USER");
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/run", top);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
reset_dir(mode_t mode)
{
	rmdir(path);
	unlink(path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Not root, nothing named: the process's own user, no drop. */
static void
test_self(void **state)
{
	(void)state;
	if (geteuid() == 0)
		skip();
	assert_int_equal(privdrop_setup(NULL), 0);
	assert_int_equal(privdrop_uid(), geteuid());
	assert_false(privdrop_pending());
	assert_int_equal(privdrop_drop(), 0);
}

static void
test_unknown_user(void **state)
{
	(void)state;
	assert_int_equal(privdrop_setup("no-such-user-meshkit-test"), -1);
	setenv("MESHKIT_USER", "no-such-user-meshkit-test", 1);
	assert_int_equal(privdrop_setup(NULL), -1);
	unsetenv("MESHKIT_USER");
}

/* Root, user meshkit missing: refuse rather than keep root. */
static void
test_root_default_missing(void **state)
{
	(void)state;
	if (geteuid() != 0 || getpwnam(PRIVDROP_DEFAULT_USER) != NULL)
		skip();
	assert_int_equal(privdrop_setup(NULL), -1);
}

/* Naming oneself is fine; naming another user needs root. */
static void
test_named(void **state)
{
	struct passwd	*me = getpwuid(geteuid());

	(void)state;
	assert_non_null(me);
	assert_int_equal(privdrop_setup(me->pw_name), 0);
	assert_false(privdrop_pending());
	if (geteuid() != 0) {
		assert_int_equal(privdrop_setup("root"), -1);
		return;
	}
	assert_int_equal(privdrop_setup("nobody"), 0);
	assert_true(privdrop_pending());
	assert_string_equal(privdrop_user(), "nobody");
	/* -u wins over the environment */
	setenv("MESHKIT_USER", "no-such-user-meshkit-test", 1);
	assert_int_equal(privdrop_setup("nobody"), 0);
	unsetenv("MESHKIT_USER");
}

static void
test_dir_rules(void **state)
{
	struct passwd	*me = getpwuid(geteuid());
	struct stat	 sb;
	char		 link[300];

	(void)state;
	assert_int_equal(privdrop_setup(me->pw_name), 0);
	/* missing: fine, and made when asked, 0750 */
	rmdir(path);
	assert_int_equal(privdrop_check_dir(path, 0), 0);
	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(privdrop_check_dir(path, 1), 0);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(privdrop_check_dir(path, 1), 0);
	/* writable by others, or by a group that is not the user's */
	reset_dir(0777);
	assert_int_equal(privdrop_check_dir(path, 1), -1);
	reset_dir(01777);
	assert_int_equal(privdrop_check_dir(path, 0), -1);
	reset_dir(0775);
	assert_int_equal(privdrop_check_dir(path, 1), 0);	/* own group */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 0, 65534), 0);
		assert_int_equal(privdrop_check_dir(path, 1), -1);
		assert_int_equal(chmod(path, 0755), 0);
		assert_int_equal(privdrop_check_dir(path, 1), 0);
		/* another user's */
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(privdrop_check_dir(path, 1), -1);
	}
	/* not a directory: a symbolic link to one of ours */
	rmdir(path);
	snprintf(link, sizeof(link), "%s/real", top);
	assert_int_equal(mkdir(link, 0750), 0);
	assert_int_equal(symlink(link, path), 0);
	assert_int_equal(privdrop_check_dir(path, 1), -1);
	unlink(path);
	rmdir(link);
}

/* As root for nobody: the directory made is nobody's. */
static void
test_dir_made_for_user(void **state)
{
	struct stat	 sb;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(privdrop_setup("nobody"), 0);
	rmdir(path);
	assert_int_equal(privdrop_check_dir(path, 1), 0);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_uid, privdrop_uid());
	assert_int_equal(sb.st_gid, privdrop_gid());
	assert_int_equal(privdrop_check_dir(path, 1), 0);
	/* root's directory for nobody: refused */
	rmdir(path);
	assert_int_equal(mkdir(path, 0750), 0);
	assert_int_equal(privdrop_check_dir(path, 1), -1);
	rmdir(path);
}

/* The drop, in a child: no way back to root afterwards. */
static void
test_drop(void **state)
{
	pid_t	 pid;
	int	 status;

	(void)state;
	if (geteuid() != 0)
		skip();
	if ((pid = fork()) == 0) {
		if (privdrop_setup("nobody") == -1 || privdrop_drop() == -1)
			_exit(1);
		if (getuid() != 65534 || geteuid() != 65534 ||
		    getgid() != 65534 || getegid() != 65534)
			_exit(2);
		if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
			_exit(3);
		if (getgroups(0, NULL) != 1)
			_exit(4);
		_exit(privdrop_pending() ? 5 : 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_root_default_missing),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_dir_rules),
		cmocka_unit_test(test_dir_made_for_user),
		cmocka_unit_test(test_drop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
