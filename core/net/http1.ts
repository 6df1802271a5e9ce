/**
 * A small HTTP/1.1 server with the connection limits `Deno.serve` lacks: a cap on open
 * connections, a deadline for each request head (slowloris), a keep-alive idle timeout, a
 * deadline for each request body, and a size cap on heads and bodies. Requests reach the
 * handler as standard `Request`s with the body fully read; responses are written with a
 * Content-Length. Keep-alive, pipelining, chunked request bodies and `Expect: 100-continue`
 * are supported; upgrades and trailers are not (a chunked body's trailers are skipped).
 *
 * Deno.serve keeps a connection that sends half a request head open indefinitely (measured:
 * still open after 75 s), and has no connection cap, so the reward service needs this.
 *
 * @module
 */
import { writeAll } from "../fsutil.ts";

export interface Http1Options {
  hostname: string;
  port: number;
  /** Open connections beyond this are answered 503 and closed. */
  maxConnections: number;
  /** A request head must arrive within this many ms of its first byte (or of the accept). */
  headerTimeoutMs: number;
  /** A keep-alive connection with no new request for this long is closed. */
  idleTimeoutMs: number;
  /** A request body must arrive within this many ms of its head. */
  bodyTimeoutMs: number;
  /** Largest request head in bytes (431 beyond). */
  maxHeaderBytes: number;
  /** Largest request body in bytes (413 beyond; the connection is then closed). */
  maxBodyBytes: number;
  onListen?: (addr: { hostname: string; port: number }) => void;
}

/** One request, its body fully read. */
export interface Http1Request {
  method: string;
  /** The request target as sent ("/score?x=1"). */
  target: string;
  /** The target's path ("/score"). */
  path: string;
  /** A header's value by lowercase name (repeated headers joined with ", "), or null. */
  header(name: string): string | null;
  body: Uint8Array;
}

/** The answer: written with a Content-Length. */
export interface Http1Response {
  status: number;
  headers?: Record<string, string>;
  body: string | Uint8Array;
}

/**
 * Plain objects instead of `Request`/`Response`: building those (headers, body streams) cost
 * more than the rest of the layer per request.
 */
export type Http1Handler = (req: Http1Request) => Http1Response | Promise<Http1Response>;

export interface Http1Server {
  readonly addr: { hostname: string; port: number };
  /** Open connections right now. */
  readonly connections: number;
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes idle connections, and resolves once in-flight requests are
   * answered. {@link Http1Server.abort} cuts the rest (for a shutdown deadline).
   */
  shutdown(): Promise<void>;
  /** Closes every connection now. */
  abort(): void;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

class HttpFault extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Buffered reads from one connection; a timer closing the connection bounds each phase. */
class ConnReader {
  private buf = new Uint8Array(16384);
  private start = 0;
  private end = 0;
  constructor(private readonly conn: Deno.Conn) {}

  get buffered(): number {
    return this.end - this.start;
  }

  /** Reads more bytes into the buffer; false at EOF. */
  private async fill(): Promise<boolean> {
    if (this.start > 0 && this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      const live = this.end - this.start;
      const next = live * 2 > this.buf.length ? new Uint8Array(this.buf.length * 2) : this.buf;
      next.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** The bytes of one head (up to and without the blank line); null on EOF before any byte. */
  async head(max: number, onFirstByte: () => void): Promise<Uint8Array | null> {
    // Offset from `start` already searched (fill() may move the bytes, never `start`'s data).
    let scanned = 0;
    let first = this.buffered > 0;
    if (first) onFirstByte();
    for (;;) {
      for (let i = this.start + Math.max(scanned, 3); i < this.end; i++) {
        if (
          this.buf[i] === 10 && this.buf[i - 1] === 13 && this.buf[i - 2] === 10 &&
          this.buf[i - 3] === 13
        ) {
          const out = this.buf.slice(this.start, i - 3);
          this.start = i + 1;
          return out;
        }
      }
      scanned = this.end - this.start;
      if (this.buffered > max) throw new HttpFault(431, `request head over ${max} bytes`);
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw new HttpFault(400, "connection closed inside the request head");
      }
      if (!first) {
        first = true;
        onFirstByte();
      }
    }
  }

  /** Exactly `n` bytes. */
  async exactly(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.buffered === 0 && !(await this.fill())) {
        throw new HttpFault(400, "connection closed inside the request body");
      }
      const take = Math.min(n - got, this.buffered);
      out.set(this.buf.subarray(this.start, this.start + take), got);
      this.start += take;
      got += take;
    }
    return out;
  }

  /** One CRLF-terminated line (without the CRLF), at most `max` bytes. */
  async line(max: number): Promise<string> {
    for (;;) {
      for (let i = this.start + 1; i < this.end; i++) {
        if (this.buf[i] === 10 && this.buf[i - 1] === 13) {
          const s = latin1.decode(this.buf.subarray(this.start, i - 1));
          this.start = i + 1;
          return s;
        }
      }
      if (this.buffered > max) throw new HttpFault(400, "chunk line too long");
      if (!(await this.fill())) throw new HttpFault(400, "connection closed inside a chunk");
    }
  }
}

interface Head {
  method: string;
  target: string;
  version: string;
  headers: Map<string, string>;
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseHead(bytes: Uint8Array): Head {
  const text = latin1.decode(bytes);
  let eol = text.indexOf("\r\n");
  if (eol < 0) eol = text.length;
  const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(text.slice(0, eol));
  if (!m) throw new HttpFault(400, "malformed request line");
  const headers = new Map<string, string>();
  let at = eol + 2;
  while (at < text.length) {
    let end = text.indexOf("\r\n", at);
    if (end < 0) end = text.length;
    const c = text.indexOf(":", at);
    if (c < 0 || c >= end) throw new HttpFault(400, "malformed header line");
    const name = text.slice(at, c);
    if (!TOKEN_RE.test(name)) throw new HttpFault(400, "malformed header name");
    const value = text.slice(c + 1, end).trim();
    if (/[\0\r\n]/.test(value)) throw new HttpFault(400, "invalid header value");
    const key = name.toLowerCase();
    const had = headers.get(key);
    headers.set(key, had === undefined ? value : `${had}, ${value}`);
    at = end + 2;
  }
  return { method: m[1], target: m[2], version: m[3], headers };
}

async function readBody(r: ConnReader, h: Head, max: number): Promise<Uint8Array> {
  const te = h.headers.get("transfer-encoding") ?? null;
  if (te !== null) {
    if (te.toLowerCase() !== "chunked") throw new HttpFault(501, `transfer-encoding ${te}`);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const size = parseInt((await r.line(1024)).split(";")[0].trim(), 16);
      if (!Number.isFinite(size) || size < 0) throw new HttpFault(400, "bad chunk size");
      if (size === 0) break;
      total += size;
      if (total > max) throw new HttpFault(413, `request body exceeds the limit of ${max} bytes`);
      parts.push(await r.exactly(size));
      if ((await r.line(2)) !== "") throw new HttpFault(400, "bad chunk end");
    }
    while ((await r.line(8192)) !== "") { /* trailers: ignored */ }
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return all;
  }
  const cl = h.headers.get("content-length") ?? null;
  if (cl === null) return new Uint8Array(0);
  if (!/^\d+$/.test(cl)) throw new HttpFault(400, "bad content-length");
  const n = Number(cl);
  if (n > max) {
    throw new HttpFault(413, `request body of ${n} bytes exceeds the limit of ${max} bytes`);
  }
  return await r.exactly(n);
}

function serialize(
  status: number,
  headers: Record<string, string> | undefined,
  body: Uint8Array,
  close: boolean,
): Uint8Array {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
  if (headers) {
    for (const k in headers) {
      const l = k.toLowerCase();
      if (l !== "content-length" && l !== "connection" && l !== "transfer-encoding") {
        head += `${k}: ${headers[k]}\r\n`;
      }
    }
  }
  head += `content-length: ${body.length}\r\n${close ? "connection: close\r\n" : ""}\r\n`;
  const h = enc.encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h, 0);
  out.set(body, h.length);
  return out;
}

const JSON_TYPE = { "content-type": "application/json" };

function faultResponse(f: HttpFault): Uint8Array {
  return serialize(f.status, JSON_TYPE, enc.encode(JSON.stringify({ error: f.message })), true);
}

/** Starts the server; see the module doc. */
export function serveHttp1(opts: Http1Options, handler: Http1Handler): Http1Server {
  const listener = Deno.listen({ hostname: opts.hostname, port: opts.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const conns = new Map<Deno.Conn, { busy: boolean; deadline: number }>();
  let closing = false;
  let idleWaiters: (() => void)[] = [];
  const allClosed = () => {
    if (conns.size === 0) {
      for (const w of idleWaiters) w();
      idleWaiters = [];
    }
  };
  const close = (c: Deno.Conn) => {
    if (!conns.has(c)) return;
    conns.delete(c);
    try {
      c.close();
    } catch { /* already closed */ }
    allClosed();
  };

  const serveConn = async (conn: Deno.Conn) => {
    const state = { busy: false, deadline: Infinity };
    conns.set(conn, state);
    const reader = new ConnReader(conn);
    // One sweeper closes connections past their deadline: cheaper than a timer per phase.
    const arm = (ms: number) => state.deadline = performance.now() + ms;
    try {
      // Until the first byte the idle timeout runs; then the head must complete in time.
      arm(Math.min(opts.idleTimeoutMs, opts.headerTimeoutMs));
      for (;;) {
        if (closing) break;
        let head: Head;
        let body: Uint8Array;
        try {
          const bytes = await reader.head(opts.maxHeaderBytes, () => arm(opts.headerTimeoutMs));
          if (bytes === null) break;
          state.busy = true;
          head = parseHead(bytes);
          arm(opts.bodyTimeoutMs);
          if (head.headers.get("expect")?.toLowerCase() === "100-continue") {
            await writeAll(conn, enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
          }
          body = await readBody(reader, head, opts.maxBodyBytes);
        } catch (e) {
          if (e instanceof HttpFault && conns.has(conn)) {
            await writeAll(conn, faultResponse(e)).catch(() => {});
          }
          break;
        }
        state.deadline = Infinity; // the handler has its own budget
        const connection = head.headers.get("connection")?.toLowerCase();
        const keepAlive = head.version === "1.1"
          ? connection !== "close"
          : connection === "keep-alive";
        let res: Http1Response;
        const q = head.target.indexOf("?");
        const headers = head.headers;
        try {
          res = await handler({
            method: head.method,
            target: head.target,
            path: q < 0 ? head.target : head.target.slice(0, q),
            header: (name) => headers.get(name) ?? null,
            body,
          });
        } catch (e) {
          res = {
            status: 500,
            headers: JSON_TYPE,
            body: JSON.stringify({ error: `internal error: ${(e as Error).message}` }),
          };
        }
        const out = typeof res.body === "string" ? enc.encode(res.body) : res.body;
        const last = !keepAlive || closing;
        arm(opts.bodyTimeoutMs); // a client that does not read its answer is cut off too
        await writeAll(
          conn,
          serialize(res.status, res.headers, head.method === "HEAD" ? new Uint8Array() : out, last),
        );
        state.busy = false;
        if (last) break;
        arm(opts.idleTimeoutMs);
      }
    } catch {
      // A reset, a write to a closed socket, or a timer that closed the connection.
    } finally {
      close(conn);
    }
  };

  const tick = Math.min(
    500,
    Math.max(
      5,
      Math.min(
        opts.headerTimeoutMs,
        opts.idleTimeoutMs,
        opts.bodyTimeoutMs,
      ) / 4,
    ),
  );
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const [c, s] of conns) if (s.deadline < now) close(c);
  }, tick);

  const finished = (async () => {
    opts.onListen?.({ hostname: addr.hostname, port: addr.port });
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break; // the listener was closed
      }
      if (conns.size >= opts.maxConnections) {
        // Over the cap: a short answer, without waiting on the client.
        const busy = faultResponse(new HttpFault(503, "too many connections"));
        conn.write(busy).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* closed */ }
        });
        continue;
      }
      serveConn(conn);
    }
    if (conns.size > 0) await new Promise<void>((r) => idleWaiters.push(r));
    clearInterval(sweeper);
  })();

  return {
    addr: { hostname: addr.hostname, port: addr.port },
    get connections() {
      return conns.size;
    },
    finished,
    async shutdown() {
      if (!closing) {
        closing = true;
        try {
          listener.close();
        } catch { /* closed */ }
        for (const [c, s] of conns) if (!s.busy) close(c);
      }
      await finished;
    },
    abort() {
      closing = true;
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of [...conns.keys()]) close(c);
    },
  };
}
