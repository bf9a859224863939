/* record.h - the bounds every reader and writer of a hook's record (struct
 * vg_generic_record) masks with, so the verifier can see each access stays inside. Capture
 * (args.h) writes the record; the selectors (selectors.h) read it. */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

#include "generic.h"

/* data[] writes start below this, and one argument writes at most VG_ARG_STR_MAX plus a
 * small header, so masked offsets stay inside data[] (see generic.h). */
#define DATA_OFF_LIMIT (VG_DATA_MAX / 2 - 1)
#define ARG_LEN_MASK (VG_ARG_STR_MAX - 1)

/* VG_MAX_ARGS rounded up to a power of two, less one: a slot masked with it is a bounded
 * index for the verifier (slots 5..7 never occur: the compiler checks every slot). */
#define ARG_SLOT_MASK 7
_Static_assert(ARG_SLOT_MASK + 1 >= VG_MAX_ARGS, "arg slot mask");

#define AF_INET 2
#define AF_INET6 10
#define AF_UNIX 1

#endif
