#!/usr/bin/env python3
"""compile_storm N - compile N small C files one after another (cc -c); print seconds taken.

The realistic workload of the storm suite: a build runs the compiler, which execs its
driver, cc1 and as, opens hundreds of headers and writes temporaries and objects. The
files are written before the clock starts, in a directory of their own removed at the end."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE = """#include <stdio.h>
#include <string.h>
#include <stdlib.h>

struct item%(i)d { int key; char name[32]; };

static int cmp%(i)d(const void *a, const void *b)
{
	return ((const struct item%(i)d *)a)->key - ((const struct item%(i)d *)b)->key;
}

int work%(i)d(int n)
{
	struct item%(i)d items[16];
	int i;

	for (i = 0; i < 16; i++) {
		items[i].key = (i * %(i)d + n) %% 17;
		snprintf(items[i].name, sizeof(items[i].name), "item-%%d", i);
	}
	qsort(items, 16, sizeof(items[0]), cmp%(i)d);
	return items[0].key + (int)strlen(items[15].name);
}
"""


def main():
    if len(sys.argv) != 2 or int(sys.argv[1]) <= 0:
        print("usage: compile_storm.py N", file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    cc = os.environ.get("CC", "cc")
    d = tempfile.mkdtemp(prefix="vigil-compile-")
    try:
        for i in range(n):
            with open(os.path.join(d, "f%d.c" % i), "w") as f:
                f.write(SOURCE % {"i": i})
        t0 = time.monotonic()
        for i in range(n):
            src = os.path.join(d, "f%d.c" % i)
            subprocess.run([cc, "-O1", "-c", src, "-o", src[:-2] + ".o"], check=True)
        print("%.6f" % (time.monotonic() - t0))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
