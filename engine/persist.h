/* persist.h: the aggregator's tables as a file, for child processes.
 *
 * A profiled child process (fork, spawn, forkserver, or a `python` it
 * launched) dumps its tables when it exits; the parent merges every dump into
 * its own tables before writing the profile.  The format is private to one
 * build of the engine (parent and children run the same build): a header
 * with a layout stamp, the strings, then files, lines, functions, stacks and
 * totals.  Dumps are written to a temporary name and renamed, so the parent
 * never merges half a file.
 */
#ifndef SCALENE_PERSIST_H
#define SCALENE_PERSIST_H

#include <stddef.h>

/* Write the tables (drained first by the caller) to path.  Call without the
 * GIL.  0 ok; -1 with a reason. */
int scalene_persist_dump(const char *path, char *why, size_t why_len);

/* Add the tables in path to ours.  Call without the GIL.  0 ok; -1 with a
 * reason (a file from another build or a truncated one is refused whole). */
int scalene_persist_merge(const char *path, char *why, size_t why_len);

/* A forked child is a new process: its first dump counts it. */
void scalene_persist_after_fork_child(void);

#endif
