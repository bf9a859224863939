/* bus_internal.h - helpers the bus files share. */
#ifndef VIGIL_BUS_INTERNAL_H
#define VIGIL_BUS_INTERNAL_H

/* Create the directory of an ipc:// url (mkdir -p). No-op for other schemes. 0 or -errno. */
int bus_prepare_ipc(const char *url);
/* chmod the socket file of an ipc:// url. No-op for other schemes. */
int bus_chmod_ipc(const char *url, unsigned int mode);
/* unlink the socket file of an ipc:// url. */
void bus_unlink_ipc(const char *url);

#endif
