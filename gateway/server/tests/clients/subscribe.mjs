// Runs one GraphQL operation against the gateway with a real client library and prints what
// the client hands the application, one JSON line each, for the Rust tests to read
// (gateway/server/tests/subscription_clients.rs):
//   {"next": result}            each result, as the library gives it
//   {"complete": true}          the stream ended normally
//   {"stopped": true}           the client completed it itself (after `take` results)
//   {"error": ...}              the library reported an error (a close event, GraphQL errors)
//
// Usage: node subscribe.mjs PROTOCOL URL REQUEST_JSON [OPTIONS_JSON]
//   PROTOCOL: ws (graphql-ws, graphql-transport-ws), legacy-ws (subscriptions-transport-ws),
//             sse (graphql-sse, distinct connections), multipart (fetch + meros)
//   OPTIONS:  {"connectionParams": {...}, "headers": {...}, "take": n, "requests": n}
//             `requests`: run the request that many times at once over one connection (ws).
import WebSocket from "ws";

const [protocol, url, requestText, optionsText] = process.argv.slice(2);
const request = JSON.parse(requestText);
const options = optionsText ? JSON.parse(optionsText) : {};
const take = options.take ?? Infinity;

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const describe = (e) => {
  if (Array.isArray(e)) return e; // GraphQL errors
  if (e && typeof e.code === "number") return { code: e.code, reason: e.reason }; // a close event
  return { message: String((e && e.message) || e) };
};

// Results of an async iterator, stopping after `take`; prefix: the operation's index when several.
async function drain(iterator, prefix) {
  let n = 0;
  for await (const result of iterator) {
    print(prefix === undefined ? { next: result } : { op: prefix, next: result });
    if (++n >= take) {
      await iterator.return?.();
      print(prefix === undefined ? { stopped: true } : { op: prefix, stopped: true });
      return;
    }
  }
  print(prefix === undefined ? { complete: true } : { op: prefix, complete: true });
}

async function graphqlWs() {
  const { createClient } = await import("graphql-ws");
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: options.connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  try {
    const count = options.requests ?? 1;
    if (count === 1) {
      await drain(client.iterate(request));
    } else {
      // Each operation's own error is its own line: the others go on.
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          drain(client.iterate(request), i).catch((e) => print({ op: i, error: describe(e) })),
        ),
      );
    }
  } finally {
    await client.dispose();
  }
}

async function legacyWs() {
  const { SubscriptionClient } = await import("subscriptions-transport-ws");
  const client = new SubscriptionClient(
    url,
    { reconnect: false, connectionParams: options.connectionParams },
    WebSocket,
  );
  await new Promise((resolve) => {
    let n = 0;
    const subscription = client.request(request).subscribe({
      next: (result) => {
        print({ next: result });
        if (++n >= take) {
          subscription.unsubscribe();
          print({ stopped: true });
          resolve();
        }
      },
      error: (e) => {
        print({ error: describe(e) });
        resolve();
      },
      complete: () => {
        print({ complete: true });
        resolve();
      },
    });
  });
  client.close();
}

async function sse() {
  const { createClient } = await import("graphql-sse");
  const client = createClient({ url, headers: options.headers, retryAttempts: 0 });
  try {
    await drain(client.iterate(request));
  } finally {
    client.dispose();
  }
}

async function multipart() {
  const { meros } = await import("meros/browser");
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: 'multipart/mixed;subscriptionSpec="1.0", application/json',
      ...options.headers,
    },
    body: JSON.stringify(request),
  });
  const parts = await meros(response);
  if (!parts[Symbol.asyncIterator]) {
    print({ error: { status: response.status, body: await response.json() } });
    return;
  }
  let n = 0;
  for await (const part of parts) {
    const body = part.json ? part.body : JSON.parse(part.body);
    if (Object.keys(body).length === 0) continue; // a heartbeat
    if (body.payload === null || body.payload === undefined) {
      print({ error: body.errors });
      return;
    }
    print({ next: body.payload });
    if (++n >= take) {
      print({ stopped: true });
      // Leaving closes the connection: the gateway's subscription ends with it.
      process.exit(0);
    }
  }
  print({ complete: true });
}

const run = { ws: graphqlWs, "legacy-ws": legacyWs, sse, multipart }[protocol];
if (!run) {
  print({ error: { message: `unknown protocol ${protocol}` } });
  process.exit(2);
}
try {
  await run();
} catch (e) {
  print({ error: describe(e) });
}
process.exit(0);
