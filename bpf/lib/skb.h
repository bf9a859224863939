/* skb.h - an sk_buff argument as Tetragon's skb_arg: the IP addresses, protocol and ports
 * of the packet's own headers (read from skb->head at the network header, so it works on
 * any path where the IP header is in place: ip_output, dev_queue_xmit, the cgroup skb
 * filters, net_dev_queue), then length, hash, priority, mark and the IPsec sec_path sizes. */
#ifndef VIGIL_SKB_H
#define VIGIL_SKB_H

#include "record.h"

#define SKB_IPPROTO_TCP 6
#define SKB_IPPROTO_UDP 17
#define SKB_V6_EXT_MAX 6	/* IPv6 extension headers skipped before giving up on ports */

/* An IPv6 packet's transport protocol and offset past the extension headers this knows
 * (hop-by-hop, routing, fragment, AH, destination options); 0 for anything else (ESP,
 * no next header), whose ports are then unknown. */
static __always_inline __u8 skb_ip6_transport(const unsigned char *head, __u32 *off)
{
	__u8 next = 0, hdr[2];
	int i;

	bpf_probe_read_kernel(&next, 1, head + *off + 6);	/* ipv6hdr.nexthdr */
	*off += 40;
	for (i = 0; i < SKB_V6_EXT_MAX; i++) {
		if (next != 0 && next != 43 && next != 44 && next != 51 && next != 60)
			return next;
		if (bpf_probe_read_kernel(hdr, 2, head + *off))
			return 0;
		if (next == 44)
			*off += 8;
		else if (next == 51)
			*off += ((__u32)hdr[1] + 2) * 4;
		else
			*off += ((__u32)hdr[1] + 1) * 8;
		next = hdr[0];
	}
	return 0;
}

/* IPsec: the sec_path extension's state counts, where the kernel has skb extensions. */
static __always_inline void skb_secpath(struct vg_skb *out, struct sk_buff *skb)
{
	struct skb_ext *ext;
	struct sec_path *sp;
	__u8 active = 0, slot = 0;
	int id;

	if (!bpf_core_field_exists(skb->active_extensions) ||
	    !bpf_core_enum_value_exists(enum skb_ext_id, SKB_EXT_SEC_PATH))
		return;
	id = bpf_core_enum_value(enum skb_ext_id, SKB_EXT_SEC_PATH);
	active = BPF_CORE_READ(skb, active_extensions);
	if (!(active & (1u << (id & 7))))
		return;
	ext = BPF_CORE_READ(skb, extensions);
	if (!ext || bpf_core_read(&slot, 1, &ext->offset[id & 7]))
		return;
	sp = (void *)ext + ((__u32)slot << 3);	/* offsets count 8-byte chunks */
	out->secpath_len = BPF_CORE_READ(sp, len);
	out->secpath_olen = BPF_CORE_READ(sp, olen);
}

/* Returns bytes used. A packet that is not IP leaves the tuple zero (family 0: address
 * filters do not match it); an unreadable header flags the argument, which then matches no
 * filter at all. */
static __always_inline __u32 capture_skb(struct generic_scratch *s, __u32 off, __u32 slot, struct sk_buff *skb)
{
	struct vg_skb *out = (void *)&s->rec.data[off & DATA_OFF_LIMIT];
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u32 l3 = BPF_CORE_READ(skb, network_header), l4 = l3;
	__u8 vihl = 0, proto = 0;
	__u16 ports[2] = {};

	__builtin_memset(out, 0, sizeof(*out));
	out->hash = BPF_CORE_READ(skb, hash);
	out->len = BPF_CORE_READ(skb, len);
	out->tuple.priority = BPF_CORE_READ(skb, priority);
	out->tuple.mark = BPF_CORE_READ(skb, mark);
	skb_secpath(out, skb);
	if (!head || bpf_probe_read_kernel(&vihl, 1, head + l3)) {
		s->rec.arg_flags[slot] |= VG_ARGF_ERROR;
		return sizeof(*out);
	}
	if (vihl >> 4 == 4) {
		struct iphdr *ip = (void *)(head + l3);

		out->tuple.family = AF_INET;
		bpf_core_read(&proto, 1, &ip->protocol);
		bpf_core_read(out->tuple.saddr, 4, &ip->saddr);
		bpf_core_read(out->tuple.daddr, 4, &ip->daddr);
		l4 = l3 + (vihl & 15) * 4;
	} else if (vihl >> 4 == 6) {
		struct ipv6hdr *ip6 = (void *)(head + l3);

		out->tuple.family = AF_INET6;
		bpf_core_read(out->tuple.saddr, 16, &ip6->saddr);
		bpf_core_read(out->tuple.daddr, 16, &ip6->daddr);
		proto = skb_ip6_transport(head, &l4);
	} else {
		return sizeof(*out);	/* not IP (ARP, ...): no addresses, as Tetragon */
	}
	out->tuple.protocol = proto;
	/* TCP and UDP both open with the source and destination ports */
	if ((proto == SKB_IPPROTO_TCP || proto == SKB_IPPROTO_UDP) && !bpf_probe_read_kernel(ports, 4, head + l4)) {
		out->tuple.sport = bpf_ntohs(ports[0]);
		out->tuple.dport = bpf_ntohs(ports[1]);
	}
	return sizeof(*out);
}

#endif
