/* loader_maps.h - the loader's shared maps, for the core modules that build BPF objects of
 * their own (core/sensors). Not part of libvigil's installed face: it exposes libbpf's
 * struct bpf_object, which consumers of loader.h never see. */
#ifndef VIGIL_LOADER_MAPS_H
#define VIGIL_LOADER_MAPS_H

#include "loader.h"

struct bpf_object;

/* Make obj use the process programs' shared maps (ring buffer, exec map, error counters,
 * wake-up counter) instead of creating its own; call before loading obj. 0 or -errno. */
int vigil_loader__reuse_shared_maps(const struct vigil_loader *l, struct bpf_object *obj);

#endif
