/* procio.h -- what the kernel counts of this process's disk writes (/proc/self/io). */
#ifndef IOT_EDGE_PROCIO_H
#define IOT_EDGE_PROCIO_H

#include <stdint.h>

/* write_bytes of /proc/self/io (bytes this process caused to be written to
 * storage: the buffer's commits, WAL and checkpoints) into *out. Returns 0,
 * or -1 when it cannot be read (*out untouched). Any thread. */
int procio_write_bytes(uint64_t *out);

#endif
