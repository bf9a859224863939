"""A small CRI client for the host tests, over the runtime.v1 messages in cri_subset.proto.

Runs under Debian's /usr/bin/python3 (python3-grpcio, python3-grpc-tools): the stubs are
generated into a temporary directory at start. Commands (one JSON object per line on
stdout):
  run-pod SOCK NAME NAMESPACE UID [LABEL=VALUE...]          -> {"pod": id}
  run-container SOCK POD NAME IMAGE CMD...                  -> {"container": id}
  list SOCK                                                 -> {"pods": [...], "containers": [...]}
  remove-pod SOCK POD
Pods share the node's network (no CNI) and get the labels kubelet sets.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def stubs():
    out = tempfile.mkdtemp(prefix="vigil-cri-stubs-")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", HERE, "--python_out", out,
                    "--grpc_python_out", out, os.path.join(HERE, "cri_subset.proto")], check=True)
    sys.path.insert(0, out)
    import cri_subset_pb2 as pb  # noqa: E402
    import cri_subset_pb2_grpc as rpc  # noqa: E402
    return pb, rpc


def sandbox_config(pb, name, namespace, uid, labels):
    lab = {"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": namespace,
           "io.kubernetes.pod.uid": uid}
    lab.update(labels)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace=namespace, attempt=0),
        labels=lab,
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=os.environ.get("VIGIL_CRI_CGROUP_PARENT", "/vigil-kubepods/pod" + uid),
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE))))


def main():
    import grpc
    pb, rpc = stubs()
    cmd, sock = sys.argv[1], sys.argv[2]
    stub = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))
    if cmd == "run-pod":
        name, ns, uid = sys.argv[3:6]
        labels = dict(a.split("=", 1) for a in sys.argv[6:])
        r = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox_config(pb, name, ns, uid, labels)),
                               timeout=60)
        print(json.dumps({"pod": r.pod_sandbox_id}))
    elif cmd == "run-container":
        pod, name, image = sys.argv[3:6]
        argv = sys.argv[6:]
        sb = stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30)
        item = [p for p in sb.items if p.id == pod][0]
        scfg = sandbox_config(pb, item.metadata.name, item.metadata.namespace, item.metadata.uid, {})
        lab = {"io.kubernetes.pod.name": item.metadata.name,
               "io.kubernetes.pod.namespace": item.metadata.namespace,
               "io.kubernetes.pod.uid": item.metadata.uid, "io.kubernetes.container.name": name}
        cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name, attempt=0),
                                 image=pb.ImageSpec(image=image), command=argv, labels=lab)
        r = stub.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg, sandbox_config=scfg),
                                 timeout=60)
        stub.StartContainer(pb.StartContainerRequest(container_id=r.container_id), timeout=60)
        print(json.dumps({"container": r.container_id}))
    elif cmd == "list":
        sb = stub.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30)
        cs = stub.ListContainers(pb.ListContainersRequest(), timeout=30)
        print(json.dumps({"pods": [{"id": p.id, "name": p.metadata.name, "namespace": p.metadata.namespace}
                                   for p in sb.items],
                          "containers": [{"id": c.id, "pod": c.pod_sandbox_id, "name": c.metadata.name}
                                         for c in cs.containers]}))
    elif cmd == "remove-pod":
        stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sys.argv[3]), timeout=60)
        stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sys.argv[3]), timeout=60)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
