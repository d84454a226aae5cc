/**
 * The enclave side of the bench's floor relay (floor-relay.ts): a forked process that takes a request
 * over IPC, sends it to the upstream over HTTP on a keep-alive agent and returns the response's bytes
 * over IPC as they arrive (the chunks of one event-loop turn in one message, as the worker does). No
 * parsing, no keys, no signing: only the hop.
 */
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true });
const upstream = new URL(process.argv[2]);

process.on("message", (message) => {
  const { id, body } = message;
  const outgoing = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: `${upstream.pathname}/chat/completions`,
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": body.length },
    },
    (response) => {
      let held = [];
      const flush = () => {
        if (held.length === 0) return;
        process.send({ id, chunk: new Uint8Array(Buffer.concat(held)) });
        held = [];
      };
      response.on("data", (chunk) => {
        if (held.length === 0) setImmediate(flush);
        held.push(chunk);
      });
      response.on("end", () => {
        flush();
        process.send({ id, end: true });
      });
    },
  );
  outgoing.end(body);
});
process.send({ ready: true });
