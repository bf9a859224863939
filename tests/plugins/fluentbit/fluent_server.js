#!/usr/bin/env node
// fluent_server.js - a real Forward server for vigil-forward's tests and benchmark:
// @fluent-org/logger's FluentServer (the Fluent organisation's implementation of the
// Forward protocol v1: Message, Forward, PackedForward and CompressedPackedForward modes,
// chunk -> ack), on a UNIX socket or a loopback TCP port. It prints one JSON line per
// event it took in, and one per ack it sent:
//   {"listening": "<path or port>"}
//   {"tag": "...", "time": {"epoch": s, "nano": ns}, "record": {...}}
//   {"ack": "<chunk id>"}
// With --count it prints no events, only {"events": n, "acks": m} every 250 ms and at exit
// (the benchmark's mode: printing every record would measure node, not the forwarder).
//
// Acks: FluentServer writes the ack for a chunk before it emits the chunk's entries. A
// server killed in between would have acked events nobody saw, which the tests cannot tell
// from a forwarder that lost them. So the acks are held back until the entries of that
// message are printed (synchronously, with fs.writeSync): an ack here always means printed,
// which is what Fluent Bit's in_forward promises too (it acks after the chunk is appended).
"use strict";
const fs = require("fs");
const { FluentServer } = require("@fluent-org/logger");
const protocol = require("@fluent-org/logger/build/src/protocol");

function usage() {
  process.stderr.write("usage: fluent_server.js (--unix PATH | --port N) [--count]\n");
  process.exit(2);
}

const args = process.argv.slice(2);
let unixPath = null, port = null, countOnly = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--unix" && i + 1 < args.length) unixPath = args[++i];
  else if (args[i] === "--port" && i + 1 < args.length) port = Number(args[++i]);
  else if (args[i] === "--count") countOnly = true;
  else usage();
}
if ((unixPath === null) === (port === null) || (port !== null && !(port > 0 && port < 65536))) usage();

function out(obj) {
  fs.writeSync(1, JSON.stringify(obj) + "\n");
}

let events = 0, acks = 0;

class PrintingServer extends FluentServer {
  handleConnection(socket) {
    // hold each ack back until the entries of its message are printed (see the top)
    const write = socket.write.bind(socket);
    socket.write = (data, ...rest) => {
      setImmediate(() => {
        if (socket.destroyed) return;
        let msg = null;
        try { msg = protocol.decode(data); } catch (e) { /* not ours to judge */ }
        if (msg && typeof msg.ack === "string") {
          acks++;
          if (!countOnly) out({ ack: msg.ack });
        }
        write(data, ...rest);
      });
      return true;
    };
    return super.handleConnection(socket);
  }

  onEntry(tag, time, record) {
    events++;
    if (!countOnly) {
      const t = typeof time === "number" ? { epoch: time, nano: null } : { epoch: time.epoch, nano: time.nano };
      out({ tag, time: t, record });
    }
    super.onEntry(tag, time, record);
  }
}

async function main() {
  if (unixPath !== null) {
    try { fs.unlinkSync(unixPath); } catch (e) { if (e.code !== "ENOENT") throw e; }
  }
  const server = new PrintingServer({ listenOptions: unixPath !== null ? { path: unixPath } : { port, host: "127.0.0.1" } });
  await server.listen();
  out({ listening: unixPath !== null ? unixPath : server.port });
  let timer = null;
  if (countOnly) {
    let last = -1;
    timer = setInterval(() => {
      if (events + acks !== last) { last = events + acks; out({ events, acks }); }
    }, 250);
  }
  const stop = () => {
    if (timer) clearInterval(timer);
    if (countOnly) out({ events, acks });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch(e => { process.stderr.write(String(e && e.stack || e) + "\n"); process.exit(1); });
