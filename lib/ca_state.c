/* SPDX-License-Identifier: ISC */
/*
 * tls-d's state directory (ca.h): what must survive a restart, so that a
 * restarted tls-d keeps the same root and the same bundle.
 *
 *	state			the roots and generations, a message in the
 *				form of meshkit-ipc(7) (type tls-d-state)
 *	root-N.pem		root number N
 *	root-N-key.pem		its key, for the self-signed root in force
 *
 * Files are written whole: to a temporary file, synced, then renamed
 * over the old one; the state file last, so that a crash leaves the old
 * state or the new one.  Keys are mode 0600, the directory 0700, and a
 * key readable by anyone else is refused.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "ca.h"
#include "msg.h"
#include "util.h"

#define CA_STATE_MAX	(64 * 1024)
#define CA_PEM_MAX	(1024 * 1024)

static int	ca_state_root_file(const char *, unsigned *, int *);
static void	ca_state_prune(struct ca *);

int
ca_write_file(const char *path, const void *data, size_t len, int mode,
    char *err, size_t errlen)
{
	char		 tmp[4096];
	const char	*p = data;
	ssize_t		 w;
	size_t		 off = 0;
	int		 fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
	    sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
ca_read_certs(const char *path, X509 **out, size_t max, char *err,
    size_t errlen)
{
	BIO	*bio;
	X509	*x;
	char	*buf;
	size_t	 len, n = 0;

	if ((buf = util_read_file(path, CA_PEM_MAX, &len, err, errlen)) ==
	    NULL)
		return -1;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (n == max) {
			X509_free(x);
			snprintf(err, errlen, "%s: more than %zu certificates",
			    path, max);
			goto fail;
		}
		out[n++] = x;
	}
	ERR_clear_error();	/* the end of the PEM blocks */
	BIO_free(bio);
	free(buf);
	if (n == 0) {
		snprintf(err, errlen, "%s: no PEM certificate", path);
		return -1;
	}
	return (int)n;
fail:
	while (n > 0)
		X509_free(out[--n]);
	BIO_free(bio);
	free(buf);
	return -1;
}

EVP_PKEY *
ca_read_key(const char *path, char *err, size_t errlen)
{
	struct stat	 sb;
	EVP_PKEY	*key;
	BIO		*bio;
	char		*buf;
	size_t		 len;

	if (stat(path, &sb) == 0 && (sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable by others (mode %03o): "
		    "chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
		return NULL;
	}
	if ((buf = util_read_file(path, CA_PEM_MAX, &len, err, errlen)) ==
	    NULL)
		return NULL;
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (key == NULL) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: no PEM private key", path);
	}
	return key;
}

int
ca_write_cert(const char *path, X509 *x, char *err, size_t errlen)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 rc = -1;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, x) != 1) {
		snprintf(err, errlen, "%s: cannot encode", path);
		goto done;
	}
	len = BIO_get_mem_data(bio, &data);
	rc = ca_write_file(path, data, (size_t)len, 0644, err, errlen);
done:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int
ca_write_key(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 rc = -1;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
	    NULL) != 1) {
		snprintf(err, errlen, "%s: cannot encode", path);
		goto done;
	}
	len = BIO_get_mem_data(bio, &data);
	rc = ca_write_file(path, data, (size_t)len, 0600, err, errlen);
done:
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int
ca_state_load(struct ca *ca, char *err, size_t errlen)
{
	struct msg	 m;
	char		 path[4096], e[256], *buf;
	X509		*x[1];
	size_t		 len, i;
	uint64_t	 v, number, retire;
	int		 rc = -1;

	snprintf(path, sizeof(path), "%s/state", ca->state_dir);
	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;	/* a new CA */
	if ((buf = util_read_file(path, CA_STATE_MAX, &len, err, errlen)) ==
	    NULL)
		return -1;
	msg_init(&m);
	if (msg_parse(&m, buf, len, e, sizeof(e)) == -1 ||
	    !msg_type_is(&m, "tls-d-state")) {
		snprintf(err, errlen, "%s: not a tls-d state file", path);
		goto done;
	}
	if (msg_get_u64(&m, &m.header, "root-generation", &v) == -1 ||
	    v > UINT32_MAX) {
		snprintf(err, errlen, "%s: root-generation: missing", path);
		goto done;
	}
	ca->root_generation = (unsigned)v;
	if (msg_get_u64(&m, &m.header, "bundle-generation",
	    &ca->bundle_generation) == -1) {
		snprintf(err, errlen, "%s: bundle-generation: missing", path);
		goto done;
	}
	for (i = 0; i < m.nrecords; i++) {
		if (ca->nroots == CA_MAX_ROOTS) {
			snprintf(err, errlen, "%s: more than %d roots", path,
			    CA_MAX_ROOTS);
			goto done;
		}
		if (msg_get_u64(&m, &m.records[i], "root", &number) == -1 ||
		    number == 0 || number > ca->root_generation ||
		    msg_get_u64(&m, &m.records[i], "retire-at", &retire) ==
		    -1 || retire > INT64_MAX) {
			snprintf(err, errlen, "%s: record %zu: want root and "
			    "retire-at", path, i + 1);
			goto done;
		}
		snprintf(path, sizeof(path), "%s/root-%llu.pem",
		    ca->state_dir, (unsigned long long)number);
		if (ca_read_certs(path, x, 1, err, errlen) != 1)
			goto done;
		ca->roots[ca->nroots].number = (unsigned)number;
		ca->roots[ca->nroots].cert = x[0];
		ca->roots[ca->nroots].retire_at = (int64_t)retire;
		ca->nroots++;
		snprintf(path, sizeof(path), "%s/root-%llu-key.pem",
		    ca->state_dir, (unsigned long long)number);
		if (retire == 0 && ca->cacerts_dir == NULL &&
		    ca->key == NULL && access(path, F_OK) == 0 &&
		    (ca->key = ca_read_key(path, err, errlen)) == NULL)
			goto done;
	}
	rc = 0;
done:
	msg_fini(&m);
	free(buf);
	return rc;
}

/* "root-N.pem" or "root-N-key.pem": N and whether it is a key. */
static int
ca_state_root_file(const char *name, unsigned *number, int *key)
{
	unsigned long	 n;
	char		*end;

	if (strncmp(name, "root-", 5) != 0 || name[5] < '1' ||
	    name[5] > '9')
		return -1;
	n = strtoul(name + 5, &end, 10);
	if (n > UINT32_MAX)
		return -1;
	*number = (unsigned)n;
	if (strcmp(end, ".pem") == 0)
		*key = 0;
	else if (strcmp(end, "-key.pem") == 0)
		*key = 1;
	else
		return -1;
	return 0;
}

/* Roots that left the bundle, and keys that no longer sign, go. */
static void
ca_state_prune(struct ca *ca)
{
	DIR		*dir;
	struct dirent	*de;
	char		 path[4096];
	unsigned	 number;
	size_t		 i;
	int		 key, keep;

	if ((dir = opendir(ca->state_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (ca_state_root_file(de->d_name, &number, &key) == -1)
			continue;
		keep = 0;
		for (i = 0; i < ca->nroots; i++)
			if (ca->roots[i].number == number)
				keep = !key || (ca->cacerts_dir == NULL &&
				    ca->signer != NULL &&
				    X509_cmp(ca->roots[i].cert,
				    ca->signer) == 0);
		if (keep)
			continue;
		snprintf(path, sizeof(path), "%s/%s", ca->state_dir,
		    de->d_name);
		(void)unlink(path);
	}
	closedir(dir);
}

int
ca_state_save(struct ca *ca, char *err, size_t errlen)
{
	struct msg_writer	 w;
	char			 path[4096];
	size_t			 i;
	int			 rc = -1;

	if (ca->readonly)
		return 0;
	for (i = 0; i < ca->nroots; i++) {
		snprintf(path, sizeof(path), "%s/root-%u.pem", ca->state_dir,
		    ca->roots[i].number);
		if (access(path, F_OK) == -1 &&
		    ca_write_cert(path, ca->roots[i].cert, err, errlen) == -1)
			return -1;
		snprintf(path, sizeof(path), "%s/root-%u-key.pem",
		    ca->state_dir, ca->roots[i].number);
		if (ca->cacerts_dir == NULL && ca->roots[i].retire_at == 0 &&
		    ca->signer != NULL &&
		    ca->key != NULL && X509_cmp(ca->roots[i].cert,
		    ca->signer) == 0 && access(path, F_OK) == -1 &&
		    ca_write_key(path, ca->key, err, errlen) == -1)
			return -1;
	}
	msgw_init(&w);
	msgw_begin(&w, "tls-d-state");
	msgw_field_u64(&w, "root-generation", ca->root_generation);
	msgw_field_u64(&w, "bundle-generation", ca->bundle_generation);
	msgw_field(&w, "ca", ca->cacerts_dir != NULL ? STR_LIT("plug-in") :
	    STR_LIT("self-signed"));
	for (i = 0; i < ca->nroots; i++) {
		msgw_record(&w);
		msgw_field_u64(&w, "root", ca->roots[i].number);
		msgw_field_u64(&w, "retire-at",
		    (uint64_t)ca->roots[i].retire_at);
	}
	snprintf(path, sizeof(path), "%s/state", ca->state_dir);
	if (!w.overflow && ca_write_file(path, w.buf, w.len, 0600, err,
	    errlen) == 0)
		rc = 0;
	msgw_fini(&w);
	if (rc == 0)
		ca_state_prune(ca);
	return rc;
}
