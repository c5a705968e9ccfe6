/* SPDX-License-Identifier: ISC */
/*
 * LD_PRELOAD for t_stop_deadline: once the file $HANG_CLOSE_FLAG exists,
 * nng_close(3) never returns, as nng 1.5's sometimes does not (nng
 * issues #1543, #1813).  Before that, the real nng_close.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <nng/nng.h>

int
nng_close(nng_socket s)
{
	int		(*real)(nng_socket);
	const char	*flag = getenv("HANG_CLOSE_FLAG");

	if (flag != NULL && access(flag, F_OK) == 0)
		for (;;)
			pause();
	real = (int (*)(nng_socket))dlsym(RTLD_NEXT, "nng_close");
	return real != NULL ? real(s) : NNG_ENOTSUP;
}
