/* SPDX-License-Identifier: ISC */
/*
 * The graph page (page.html) as statsd_page, a NUL-terminated string,
 * put in the program by the assembler: the page stays a file one can
 * edit and open in a browser.
 */
#include "statsd.h"

__asm__(
"	.section .rodata\n"
"	.global statsd_page\n"
"	.type statsd_page, @object\n"
"statsd_page:\n"
"	.incbin \"cmd/stats-d/page.html\"\n"
"	.byte 0\n"
"	.size statsd_page, . - statsd_page\n"
"	.previous\n"
);
