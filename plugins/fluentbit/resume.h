/* resume.h - where a journal forwarder resumes: the agent incarnation and the first seq
 * the peer has not acknowledged, kept in the spool directory across restarts. */
#ifndef FWD_RESUME_H
#define FWD_RESUME_H

#include <stdint.h>

/* The file's name in the spool directory. */
#define FWD_RESUME_FILE "journal.pos"

/* Read dir's position: 0, -ENOENT when there is none yet, -EBADMSG when the file does not
 * parse (it is then ignored: the forwarder starts from now, and says so). */
int resume_load(const char *dir, uint64_t *incarnation, uint64_t *next);
/* Replace dir's position (temporary file, then rename). 0 or -errno. */
int resume_save(const char *dir, uint64_t incarnation, uint64_t next);

#endif
